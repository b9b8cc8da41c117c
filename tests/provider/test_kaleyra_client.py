"""Kaleyra-specific behaviour of the adapter, against the fake API over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from adapters.kaleyra import KaleyraVideoProvider
from application.dto import RoomDetails, RoomMember
from application.errors import InvalidRequest, ProviderError
from domain.privileges import Privilege
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import DetailsForm, RoomForm, TranscriptionForm, UserForm
from tests.provider.conftest import API_KEY, SpecFactory

Build = Callable[..., KaleyraVideoProvider]


# ------------------------------------------------------------------ request bodies


async def test_create_user_posts_the_role_with_the_api_key(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    user_id = await kaleyra.create_user(Privilege.PLUS)

    sent = fake_kaleyra.state.last_request("POST", "/v2/users")
    assert sent.json() == {"role": "plus"}
    assert sent.headers["apikey"] == API_KEY
    assert sent.headers["content-type"].startswith("application/json")
    assert fake_kaleyra.state.users[user_id] == "plus"


async def test_create_room_sends_the_documented_body(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory
) -> None:
    kaleyra = make_kaleyra(recording="manual", live=False)
    spec = await make_spec(kaleyra, duration_seconds=3600)
    doctor, patient = spec.members
    tools = {"chat": True, "file_upload": True}
    spec = replace(spec, members=(RoomMember(doctor.provider_user_id, Privilege.PLUS, tools), patient))

    await kaleyra.create_room(spec)

    assert fake_kaleyra.state.last_request("POST", "/v2/rooms").json() == {
        "participants": [
            {"user_id": doctor.provider_user_id, "is_admin": True, "tools": tools},
            {"user_id": patient.provider_user_id, "is_admin": False},
        ],
        "recording": "manual",
        "call_type": "audio_video",
        "live": False,
        "duration": 3600,
        "offline_transcription": True,
    }


async def test_unlimited_room_omits_the_duration(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory
) -> None:
    await kaleyra.create_room(await make_spec(kaleyra, duration_seconds=None, tools={"chat": True}))

    body = fake_kaleyra.state.last_request("POST", "/v2/rooms").json()
    assert "duration" not in body
    assert body["recording"] == "none"
    assert "offline_transcription" not in body  # unrecorded rooms have nothing to transcribe
    assert body["live"] is True
    assert all(p["tools"] == {"chat": True} for p in body["participants"])


async def test_path_segments_are_quoted_and_a_trailing_slash_is_tolerated(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer
) -> None:
    kaleyra = make_kaleyra(base_url=fake_kaleyra.base_url + "/")

    await kaleyra.delete_room("a/b?c")

    assert fake_kaleyra.state.requests[-1].raw_path == "/v2/rooms/a%2Fb%3Fc"


# ------------------------------------------------------------------ tolerant parsing


@pytest.mark.parametrize("form", ["user_id", "id", "nested"])
async def test_every_user_response_form_is_understood(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, form: UserForm
) -> None:
    fake_kaleyra.state.user_form = form

    user_id = await kaleyra.create_user(Privilege.BASIC)

    assert fake_kaleyra.state.users[user_id] == "basic"


@pytest.mark.parametrize("form", ["v2", "url", "nested", "v1"])
async def test_every_room_response_form_is_understood(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory, form: RoomForm
) -> None:
    spec = await make_spec(kaleyra, 3)
    fake_kaleyra.state.room_form = form

    room = await kaleyra.create_room(spec)

    stored = fake_kaleyra.state.rooms[room.room_id]
    assert room.links == {p["user_id"]: p["link"] for p in stored.participants}


@pytest.mark.parametrize("form", ["v2", "long", "nested"])
async def test_every_room_details_form_is_understood(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory, form: DetailsForm
) -> None:
    room = await kaleyra.create_room(await make_spec(kaleyra, duration_seconds=900))
    fake_kaleyra.state.details_form = form

    details = await kaleyra.room_details(room.room_id)

    assert details == RoomDetails(
        recording="none",
        recording_status="stopped",
        call_type="audio_video",
        description="",
        status="NOT_RUNNING",
        disabled=False,
        creation_date=fake_kaleyra.state.rooms[room.room_id].creation_date,
        duration_in_seconds=900,
        duration_used_in_seconds=0,
        live=True,
    )


async def test_a_response_without_a_link_for_every_member_still_hands_back_the_room(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory
) -> None:
    spec = await make_spec(kaleyra, 3)
    fake_kaleyra.state.links_withheld = 1

    room = await kaleyra.create_room(spec)

    assert room.room_id in fake_kaleyra.state.rooms
    assert set(room.links) == {m.provider_user_id for m in spec.members[:2]}


async def test_an_undecodable_body_is_a_provider_error(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    fake_kaleyra.state.fail_next("create_user", "garbage")

    with pytest.raises(ProviderError, match="kaleyra create_user undecodable response"):
        await kaleyra.create_user(Privilege.PLUS)


async def test_an_error_status_is_a_provider_error(kaleyra: KaleyraVideoProvider, make_spec: SpecFactory) -> None:
    spec = await make_spec(kaleyra)
    # One participant is not a Kaleyra user: the API refuses the room.
    spec = replace(spec, members=(*spec.members, RoomMember("ghost", Privilege.BASIC, None)))

    with pytest.raises(ProviderError, match="kaleyra create_room status 400") as raised:
        await kaleyra.create_room(spec)
    assert raised.value.provider == "kaleyra"
    assert raised.value.operation == "create_room"


# ------------------------------------------------------------------ uploads, credentials, company, transcription


async def test_list_uploads_pages_until_has_more_is_false(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    state = fake_kaleyra.state
    keys = [state.add_upload("room_a") for _ in range(45)]
    state.add_upload("room_b")

    listed = await kaleyra.list_uploads("room_a")

    assert listed == keys
    pages = [r.query for r in state.requests if r.path == "/v2/uploads"]
    assert pages == [{"room_id": "room_a", "offset": str(offset), "limit": "20"} for offset in (0, 20, 40)]


async def test_list_uploads_of_a_room_without_files_is_empty(kaleyra: KaleyraVideoProvider) -> None:
    assert await kaleyra.list_uploads("room_without_files") == []


async def test_delete_upload_removes_it_and_tolerates_a_missing_one(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    key = fake_kaleyra.state.add_upload("room_a")

    await kaleyra.delete_upload(key)
    await kaleyra.delete_upload(key)

    assert fake_kaleyra.state.uploads == {}
    assert fake_kaleyra.state.count("DELETE", f"/v2/uploads/{key}") == 2


async def test_sdk_credentials_are_mapped(kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer) -> None:
    user_id = await kaleyra.create_user(Privilege.BASIC)

    credentials = await kaleyra.sdk_credentials(user_id, 3600)

    assert fake_kaleyra.state.last_request("POST", "/v2/sdk/credentials").json() == {
        "user_id": user_id,
        "expires_in": 3600,
    }
    assert credentials.user_id == user_id
    assert credentials.access_token.startswith("fake.")
    assert credentials.expires_at.endswith("Z")


async def test_sdk_credentials_refused_by_kaleyra_are_a_provider_error(kaleyra: KaleyraVideoProvider) -> None:
    user_id = await kaleyra.create_user(Privilege.BASIC)

    with pytest.raises(ProviderError, match="kaleyra sdk_credentials status 400"):
        await kaleyra.sdk_credentials(user_id, 10)


async def test_a_background_is_uploaded_then_made_the_default(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    image = b"\xff\xd8\xff\xe0 pretend jpeg"

    background = await kaleyra.upload_background("clinic.jpg", "image/jpeg", image)
    company = await kaleyra.set_default_background(background.alias)

    assert fake_kaleyra.state.background_files == [("clinic.jpg", "image/jpeg", image)]
    stored = fake_kaleyra.state.backgrounds[background.alias]
    assert (background.url, background.creation_date) == (stored["url"], stored["creation_date"])
    assert fake_kaleyra.state.last_request("PATCH", "/v2/company").json() == {"background_alias": background.alias}
    assert company["default_background"] == stored
    assert company["name"] == "Fake Clinic"
    assert company["end_call_redirect_timeout_ms"] == 5000


async def test_an_image_or_alias_kaleyra_refuses_is_the_callers_mistake(kaleyra: KaleyraVideoProvider) -> None:
    with pytest.raises(InvalidRequest, match="refused the image"):
        await kaleyra.upload_background("clinic.png", "image/png", b"png")
    with pytest.raises(InvalidRequest, match="refused the background alias"):
        await kaleyra.set_default_background("no-such-alias")


async def test_a_failing_background_upload_is_a_provider_error(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    fake_kaleyra.state.fail_next("upload_background", "500")
    with pytest.raises(ProviderError, match="kaleyra upload_background status 500"):
        await kaleyra.upload_background("clinic.jpg", "image/jpeg", b"\xff\xd8\xff")


@pytest.mark.parametrize(("form", "chunked"), [("text", False), ("text", True), ("json", False), ("json", True)])
async def test_transcription_is_read_in_both_forms(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, form: TranscriptionForm, chunked: bool
) -> None:
    state = fake_kaleyra.state
    state.transcription_form = form
    state.transcription_chunked = chunked
    state.add_transcription("room/1", "session 1", "Dottoressa: buongiorno. Paziente: salve.")

    text = await kaleyra.transcription("room/1", "session 1", "srt", max_bytes=1000)

    assert text == "Dottoressa: buongiorno. Paziente: salve."
    sent = state.requests[-1]
    assert sent.query == {"format": "srt"}
    assert sent.raw_path.startswith("/v2/rooms/room%2F1/sessions/session%201/transcription")


async def test_a_transcription_is_decoded_with_the_charset_it_names(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    state = fake_kaleyra.state
    state.transcription_content_type, state.transcription_encoding = "text/plain; charset=ISO-8859-1", "latin-1"
    state.add_transcription("r", "s", "Paziente: perché?")
    assert await kaleyra.transcription("r", "s", "txt", max_bytes=1000) == "Paziente: perché?"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain; charset=no-such-charset", "text/plain; charset*=utf-8''%00x", "text/plain; charset=utf-8"],
)
async def test_a_transcription_that_cannot_be_decoded_is_a_provider_error(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, content_type: str
) -> None:
    state = fake_kaleyra.state
    state.transcription_content_type, state.transcription_encoding = content_type, "utf-16"
    state.add_transcription("r", "s", "testo")
    with pytest.raises(ProviderError, match="kaleyra transcription undecodable response"):
        await kaleyra.transcription("r", "s", "txt", max_bytes=1000)


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_transcription_over_the_limit_is_refused(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, chunked: bool
) -> None:
    state = fake_kaleyra.state
    state.transcription_chunked = chunked
    state.add_transcription("r", "s", "x" * 200_000)

    with pytest.raises(ProviderError, match="kaleyra transcription answer exceeds the configured maximum"):
        await kaleyra.transcription("r", "s", "txt", max_bytes=100_000)
    assert await kaleyra.transcription("r", "s", "txt", max_bytes=200_000) == "x" * 200_000
    assert state.count("GET", "/v2/rooms/r/sessions/s/transcription") == 2


async def test_a_missing_transcription_is_none_and_a_failure_an_error(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    assert await kaleyra.transcription("r", "s", "txt", max_bytes=1000) is None
    fake_kaleyra.state.fail_next("transcription", "500", times=3)
    with pytest.raises(ProviderError, match="status 500"):
        await kaleyra.transcription("r", "s", "txt", max_bytes=1000)


@pytest.mark.parametrize("session", ["..", ".", "", "a/b", "a\\b", "a%2Fb", "a\x00b", "x" * 257])
async def test_a_session_id_that_could_move_the_request_is_refused_before_any_call(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, session: str
) -> None:
    with pytest.raises(InvalidRequest, match="the session id must be 1 to 256 characters"):
        await kaleyra.transcription("room-1", session, "txt", max_bytes=1000)
    assert fake_kaleyra.state.requests == []


@pytest.mark.parametrize("room_id", ["..", ".", ""])
async def test_a_stored_id_that_percent_encoding_cannot_neutralise_is_a_provider_failure(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, room_id: str
) -> None:
    with pytest.raises(ProviderError, match="not a safe URL path segment"):
        await kaleyra.delete_room(room_id)
    assert fake_kaleyra.state.requests == []
