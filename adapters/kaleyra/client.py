"""The VideoProvider port spoken to the Kaleyra Video REST API v2."""

from __future__ import annotations

import io
import random
from typing import Any, TypeVar

import aiohttp
import msgspec
from yarl import URL

from adapters.kaleyra import wire
from adapters.kaleyra.links import personalise_link
from adapters.kaleyra.paths import caller_segment
from adapters.kaleyra.replies import PROVIDER, Reply, fail
from adapters.kaleyra.settings import KaleyraSettings
from adapters.kaleyra.transport import CallObserver, KaleyraTransport, Sleep
from application.circuit_breaker import CircuitBreaker
from application.dto import CompanyBackground, LinkOptions, ProvisionedRoom, RoomDetails, RoomSpec, SdkCredentials
from application.errors import InvalidRequest, ProviderError
from application.ports import (
    CallUploads,
    CompanyBackgrounds,
    JoinLinks,
    SdkCredentialIssuer,
    SessionTranscriptions,
    VideoProvider,
)
from domain.privileges import Privilege

T = TypeVar("T")

CALL_TYPE = "audio_video"
# Stops a misbehaving server that always answers has_more=true from keeping us paging forever.
MAX_UPLOAD_PAGES = 1000
# Statuses with which Kaleyra refuses what the caller sent rather than failing itself.
IMAGE_REFUSED = frozenset({400, 413, 415, 422})
ALIAS_REFUSED = frozenset({400, 404, 422})  # 404: no background has this alias


class KaleyraVideoProvider(
    VideoProvider, JoinLinks, SdkCredentialIssuer, CallUploads, CompanyBackgrounds, SessionTranscriptions
):
    """Kaleyra users, rooms, uploads, SDK credentials, company backgrounds and transcriptions.

    The session is injected and owned by the caller; this class never opens or closes one.
    """

    name = PROVIDER

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: KaleyraSettings,
        *,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        self._settings = settings
        self._http = KaleyraTransport(session, settings, sleep=sleep, rng=rng, breaker=breaker, observer=observer)

    async def create_user(self, privilege: Privilege) -> str:
        operation = "create_user"
        body = wire.encode(wire.CreateUserRequest(role=privilege.value))
        reply = await self._http.send(operation, "POST", self._http.url("v2", "users"), json=body)
        user_id = _decode(operation, _ok(operation, reply), wire.CreateUserResponse).provider_user_id()
        if not user_id:
            raise ProviderError(PROVIDER, operation, "no user id in response")
        return user_id

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
        operation = "create_room"
        request = wire.CreateRoomRequest(
            participants=[
                wire.RoomParticipant(
                    user_id=member.provider_user_id,
                    is_admin=member.privilege is Privilege.PLUS,
                    tools=msgspec.UNSET if member.tools is None else dict(member.tools),
                )
                for member in spec.members
            ],
            recording=self._settings.recording,
            call_type=CALL_TYPE,
            live=self._settings.live,
            duration=msgspec.UNSET if spec.duration_seconds is None else spec.duration_seconds,
            # Transcriptions exist only for recorded rooms that ask for them.
            offline_transcription=True if self._settings.recording != "none" else msgspec.UNSET,
            # Kaleyra treats the description as PII/PHI and shows it nowhere a participant sees: an opaque id only.
            description=msgspec.UNSET if spec.reference is None else spec.reference,
        )
        reply = await self._http.send(operation, "POST", self._http.url("v2", "rooms"), json=wire.encode(request))
        body = _ok(operation, reply)
        try:
            created = _decode(operation, body, wire.CreateRoomResponse)
        except ProviderError:
            # A success whose answer cannot be read: a room was made, and which one is unknown.
            raise ProviderError(PROVIDER, operation, "undecodable response", outcome_unknown=True) from None
        room_id = created.resolved_room_id()
        if not room_id:
            raise ProviderError(PROVIDER, operation, "no room id in response", outcome_unknown=True)
        links = created.links()
        # A member without a link is the caller's to judge (RoomKeeper deletes such a room): the room exists either way.
        return ProvisionedRoom(
            room_id=room_id,
            links={m.provider_user_id: links[m.provider_user_id] for m in spec.members if m.provider_user_id in links},
        )

    def personalise(self, link: str, options: LinkOptions) -> str:
        return personalise_link(link, options)

    async def delete_room(self, room_id: str) -> None:
        await self._delete("delete_room", self._http.url("v2", "rooms", room_id))

    async def room_details(self, room_id: str) -> RoomDetails | None:
        operation = "room_details"
        reply = await self._http.send(operation, "GET", self._http.url("v2", "rooms", room_id))
        if reply.status == 404:
            return None
        return _decode(operation, _ok(operation, reply), wire.RoomResponse).details()

    async def sdk_credentials(self, provider_user_id: str, expires_in: int) -> SdkCredentials:
        operation = "sdk_credentials"
        body = wire.encode(wire.SdkCredentialsRequest(user_id=provider_user_id, expires_in=expires_in))
        reply = await self._http.send(operation, "POST", self._http.url("v2", "sdk", "credentials"), json=body)
        issued = _decode(operation, _ok(operation, reply), wire.SdkCredentialsResponse)
        return SdkCredentials(issued.access_token, issued.expires_at, issued.user_id or provider_user_id)

    async def list_uploads(self, room_id: str) -> list[str]:
        """Keys of every file uploaded in the room, across all pages."""
        operation = "list_uploads"
        url = self._http.url("v2", "uploads")
        keys: list[str] = []
        offset = 0
        for _ in range(MAX_UPLOAD_PAGES):
            params = {"room_id": room_id, "offset": str(offset), "limit": str(self._settings.uploads_page_size)}
            reply = await self._http.send(operation, "GET", url, params=params)
            page = _decode(operation, _ok(operation, reply), wire.UploadsPage)
            keys.extend(upload.key for upload in page.uploads)
            if not page.has_more or not page.uploads:
                return keys
            offset += len(page.uploads)
        raise ProviderError(PROVIDER, operation, "too many pages")

    async def delete_upload(self, key: str) -> None:
        await self._delete("delete_upload", self._http.url("v2", "uploads", key))

    async def upload_background(self, filename: str, content_type: str, data: bytes) -> CompanyBackground:
        operation = "upload_background"
        form = aiohttp.FormData()
        # A file object is sent in chunks; raw bytes of this size would hold up the event loop.
        form.add_field("file", io.BytesIO(data), filename=filename, content_type=content_type)
        url = self._http.url("v2", "company", "backgrounds")
        reply = await self._http.send(operation, "POST", url, form=form)
        if reply.status in IMAGE_REFUSED:
            raise InvalidRequest(
                f"the video provider refused the image (status {reply.status}); it accepts JPEG images of at "
                "least 1280x1280 pixels and at most 10 backgrounds per company"
            )
        background = _decode(operation, _ok(operation, reply), wire.Background)
        if not background.alias:
            raise ProviderError(PROVIDER, operation, "no alias in response")
        return CompanyBackground(alias=background.alias, url=background.url, creation_date=background.creation_date)

    async def set_default_background(self, alias: str) -> dict[str, Any]:
        """The updated company object, with the keys Kaleyra sent among those the contract lists."""
        operation = "set_default_background"
        body = wire.encode(wire.UpdateCompanyRequest(background_alias=alias))
        reply = await self._http.send(operation, "PATCH", self._http.url("v2", "company"), json=body)
        if reply.status in ALIAS_REFUSED:
            raise InvalidRequest(f"the video provider refused the background alias (status {reply.status})")
        return wire.to_builtins(_decode(operation, _ok(operation, reply), wire.Company))

    async def transcription(self, room_id: str, session_id: str, fmt: str, max_bytes: int) -> str | None:
        """The session's transcription text; the body is abandoned as soon as it exceeds `max_bytes`."""
        operation = "transcription"
        session = caller_segment(session_id, "session id")
        url = self._http.url("v2", "rooms", room_id, "sessions", session, "transcription")
        reply = await self._http.send(
            operation,
            "GET",
            url,
            params={"format": fmt},
            max_bytes=max_bytes,
            too_large=f"answer exceeds the configured maximum of {max_bytes} bytes",
            accept="text/plain, application/json",
        )
        if reply.status == 404:
            return None
        body = _ok(operation, reply)
        if "json" in reply.media_type:
            return _decode(operation, body, wire.TranscriptionResponse).transcription
        try:
            return body.decode(reply.charset or "utf-8")
        except (ValueError, LookupError):  # undecodable, an unknown charset, or a name that is no charset at all
            raise ProviderError(PROVIDER, operation, "undecodable response") from None

    async def _delete(self, operation: str, url: URL) -> None:
        reply = await self._http.send(operation, "DELETE", url)
        if reply.status != 404:  # already gone counts as deleted
            _ok(operation, reply)


def _ok(operation: str, reply: Reply) -> bytes:
    if not 200 <= reply.status < 300:
        raise fail(operation, reply)
    return reply.body


def _decode(operation: str, body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.DecodeError:
        raise ProviderError(PROVIDER, operation, "undecodable response") from None
