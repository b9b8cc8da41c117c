"""Route handlers of the fake Kaleyra v2 API: validation like the real API, answers in the configured forms."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from aiohttp import web

from tests.fakes.kaleyra_state import FakeKaleyraState, FakeRoom, new_id, now_iso

STATE = web.AppKey("kaleyra_state", FakeKaleyraState)
LINK_ROOT = "https://fake-kaleyra.invalid/eu/direct-rest-call-handler"
ROLES = frozenset({"plus", "basic"})
RECORDINGS = frozenset({"none", "manual", "automatic"})
CALL_TYPES = frozenset({"audio_video", "audio_only", "audio_upgradable"})
COMPANY_KEYS = frozenset(
    {
        "name",
        "default_language",
        "background_alias",
        "end_call_redirect_url",
        "end_call_redirect_timeout_ms",
        "user_details_provider_url",
    }
)
CUSTOM_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
MAX_BACKGROUND_BYTES = 16 * 1024 * 1024


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def bad_request(message: str) -> web.Response:
    return error(400, "bad_request", message)


async def json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.read())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# ------------------------------------------------------------------ users and rooms


async def create_user(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await json_object(request)
    if body is None or body.get("role") not in ROLES:
        return bad_request("role must be plus or basic")
    custom = body.get("id")
    if custom is not None and not (isinstance(custom, str) and CUSTOM_ID.fullmatch(custom)):
        return bad_request("invalid custom id")
    if custom in state.users:
        return error(409, "conflict", "user id already exists")
    user_id = state.add_user(body["role"], custom)
    forms = {"user_id": {"user_id": user_id}, "id": {"id": user_id}, "nested": {"user": {"id": user_id}}}
    return web.json_response(forms[state.user_form], status=201)


def participants_problem(state: FakeKaleyraState, participants: object) -> str | None:
    if not isinstance(participants, list) or not 2 <= len(participants) <= 25:
        return "participants must hold between 2 and 25 entries"
    seen: set[str] = set()
    for entry in participants:
        if not isinstance(entry, dict) or entry.get("user_id") not in state.users:
            return "unknown participant user_id"
        if entry["user_id"] in seen:
            return "duplicated participant"
        seen.add(entry["user_id"])
        if not isinstance(entry.get("is_admin", False), bool):
            return "is_admin must be a boolean"
        tools = entry.get("tools", {})
        if not isinstance(tools, dict) or not all(isinstance(v, bool) for v in tools.values()):
            return "tools must map names to booleans"
    return None


def room_problem(state: FakeKaleyraState, body: dict[str, Any] | None) -> str | None:
    if body is None:
        return "body must be a JSON object"
    problem = participants_problem(state, body.get("participants"))
    if problem is not None:
        return problem
    duration = body.get("duration")
    if duration is not None and not (is_int(duration) and duration >= 60):
        return "duration must be an integer of at least 60 seconds"
    if body.get("recording", "none") not in RECORDINGS:
        return "invalid recording"
    if body.get("call_type", "audio_video") not in CALL_TYPES:
        return "invalid call_type"
    if not all(isinstance(body.get(flag, False), bool) for flag in ("live", "offline_transcription")):
        return "live and offline_transcription must be booleans"
    return None


async def create_room(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await json_object(request)
    problem = room_problem(state, body)
    if problem is not None or body is None:
        return bad_request(problem or "invalid body")
    room_id = new_id("room")
    participants = [{**entry, "link": f"{LINK_ROOT}/{new_id('t')}"} for entry in body["participants"]]
    state.rooms[room_id] = FakeRoom(
        room_id=room_id,
        participants=participants,
        duration=body.get("duration"),
        recording=body.get("recording", "none"),
        call_type=body.get("call_type", "audio_video"),
        live=body.get("live", True),
        description=body.get("description", ""),
        creation_date=now_iso(),
        offline_transcription=body.get("offline_transcription", False),
    )
    answered = participants[: len(participants) - state.links_withheld]
    links = [{"user_id": p["user_id"], "link": p["link"]} for p in answered]
    if state.room_form == "v2":
        return web.json_response({"room_id": room_id, "participants": links}, status=201)
    if state.room_form == "url":
        urls = [{"user_id": p["user_id"], "url": p["link"]} for p in answered]
        return web.json_response({"room_id": room_id, "participants": urls}, status=201)
    if state.room_form == "nested":
        return web.json_response({"room": {"room_id": room_id, "participants": links}})
    user_urls = [{"user": p["user_id"], "url": p["link"], "is_admin": p.get("is_admin", False)} for p in answered]
    return web.json_response({"room": {"room_id": room_id, "user_urls": user_urls}})


async def get_room(request: web.Request) -> web.Response:
    state = request.app[STATE]
    room = state.rooms.get(request.match_info["room_id"])
    if room is None:
        return error(404, "not_found", "room not found")
    long = state.details_form == "long"
    details: dict[str, Any] = {
        "room_id": room.room_id,
        "recording": room.recording,
        "recording_status": "stopped",
        "call_type": room.call_type,
        "description": room.description,
        "status": "NOT_RUNNING",
        "disabled": False,
        "creation_date": room.creation_date,
        "duration_in_seconds" if long else "duration": room.duration,
        "duration_used_in_seconds" if long else "duration_used": 0,
        "live": room.live,
        "participants": [{"user_id": p["user_id"], "is_admin": p.get("is_admin", False)} for p in room.participants],
    }
    return web.json_response({"room": details} if state.details_form == "nested" else details)


async def delete_room(request: web.Request) -> web.Response:
    if request.app[STATE].rooms.pop(request.match_info["room_id"], None) is None:
        return error(404, "not_found", "room not found")
    return web.Response(status=204)


# ------------------------------------------------------------------ uploads and credentials


async def list_uploads(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        return bad_request("offset and limit must be integers")
    if offset < 0 or not 1 <= limit <= state.max_page_size:
        return bad_request(f"offset must be >= 0 and limit between 1 and {state.max_page_size}")
    filters = {k: v for k, v in request.query.items() if k in {"room_id", "user_id", "session_id", "upload_type"}}
    matching = [u for u in state.uploads.values() if all(u.get(k) == v for k, v in filters.items())]
    page = matching[offset : offset + limit]
    return web.json_response(
        {
            "offset": offset,
            "limit": limit,
            "has_more": offset + limit < len(matching),
            "count": len(page),
            "uploads": page,
        }
    )


async def delete_upload(request: web.Request) -> web.Response:
    if request.app[STATE].uploads.pop(request.match_info["key"], None) is None:
        return error(404, "not_found", "upload not found")
    return web.Response(status=204)


async def sdk_credentials(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await json_object(request)
    if body is None or body.get("user_id") not in state.users:
        return bad_request("unknown user_id")
    expires_in = body.get("expires_in")
    if not (is_int(expires_in) and 360 <= expires_in <= 86400):
        return bad_request("expires_in must be an integer between 360 and 86400")
    expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    return web.json_response(
        {
            "access_token": f"fake.{new_id('token')}.sig",
            "expires_at": expires_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "user_id": body["user_id"],
        }
    )


# ------------------------------------------------------------------ company and transcriptions


async def upload_background(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if request.content_type != "multipart/form-data":
        return bad_request("expected multipart/form-data")
    form = await request.post()
    image = form.get("file")
    if not isinstance(image, web.FileField):
        return bad_request("missing file field")
    data = image.file.read()
    state.background_files.append((image.filename, image.content_type, data))
    if image.content_type not in {"image/jpeg", "image/jpg"} or len(data) > MAX_BACKGROUND_BYTES:
        return bad_request("the background must be a jpeg of at most 16 MB")
    if len(state.backgrounds) >= 10:
        return bad_request("at most 10 backgrounds per company")
    alias = new_id("bg").removeprefix("bg_")
    background = {
        "alias": alias,
        "url": f"https://fake-kaleyra.invalid/backgrounds/{alias}.jpg",
        "creation_date": now_iso(),
    }
    state.backgrounds[alias] = background
    return web.json_response(background, status=201)


async def update_company(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await json_object(request)
    if body is None or not set(body) <= COMPANY_KEYS:
        return bad_request(f"allowed keys: {sorted(COMPANY_KEYS)}")
    update = dict(body)
    if "background_alias" in update:
        background = state.backgrounds.get(update.pop("background_alias"))
        if background is None:
            return bad_request("unknown background_alias")
        state.company["default_background"] = dict(background)
    state.company.update(update)
    return web.json_response(state.company)


async def transcription(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if request.query.get("format", "txt") not in {"txt", "srt"}:
        return bad_request("format must be txt or srt")
    text = state.transcriptions.get((request.match_info["room_id"], request.match_info["session_id"]))
    if text is None:
        return error(404, "not_found", "transcription not found")
    if state.transcription_form == "json":
        response = web.json_response({"transcription": text})
    elif state.transcription_content_type is not None:
        body = text.encode(state.transcription_encoding)
        response = web.Response(body=body, headers={"Content-Type": state.transcription_content_type})
    else:
        response = web.Response(text=text, content_type="text/plain")
    if state.transcription_chunked:
        response.enable_chunked_encoding()
    return response
