"""GET /transcription/{roomId}/{sessionId} over HTTP, against the fake Kaleyra."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.memory.clock import FixedClock
from entrypoints.settings import Settings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import AS_DOCTOR, AS_PATIENT, body, create, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve
from tests.http.raw_http import connection

TEXT = "Dottoressa: buongiorno.\nPaziente: buongiorno, dottoressa."


def recorded(fake: FakeKaleyraServer, **overrides: Any) -> Settings:
    """A Kaleyra service recording every call, as DEFAULT_RECORDING_TYPE=manual configures it."""
    settings = kaleyra_settings(fake, recording_type="manual", **overrides)
    assert settings.kaleyra is not None
    return replace(settings, kaleyra=replace(settings.kaleyra, recording="manual"))


@pytest.fixture
async def recording_client(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> AsyncIterator[Client]:
    async with serve(recorded(fake_kaleyra), clock) as client:
        yield client


async def teleconsultation_with_room(client: Client, fake: FakeKaleyraServer) -> tuple[str, str]:
    teleconsultation_id = await create(client, body(doctor(), patient()))
    (room_id,) = fake.state.rooms
    return teleconsultation_id, room_id


async def test_the_session_text_of_the_teleconsultations_room(
    recording_client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    teleconsultation_id, room_id = await teleconsultation_with_room(recording_client, fake_kaleyra)
    room = fake_kaleyra.state.rooms[room_id]
    assert (room.recording, room.offline_transcription) == ("manual", True)
    fake_kaleyra.state.add_transcription(room_id, "session-1", TEXT)

    default = await recording_client.get(f"/transcription/{teleconsultation_id}/session-1", headers=AS_PATIENT)
    assert default.status_code == 200
    assert default.json() == {"transcription": TEXT}
    assert fake_kaleyra.state.requests[-1].query == {"format": "txt"}

    srt = await recording_client.get(
        f"/transcription/{teleconsultation_id}/session-1", params={"format": "srt"}, headers=AS_DOCTOR
    )
    assert srt.json() == {"transcription": TEXT}
    assert fake_kaleyra.state.requests[-1].query == {"format": "srt"}


async def test_every_refusal_has_its_status_and_reason(
    recording_client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    teleconsultation_id, _ = await teleconsultation_with_room(recording_client, fake_kaleyra)
    roomless = await create(recording_client, body(doctor(), number=2))
    cases = [
        (f"/transcription/{teleconsultation_id}/s?format=pdf", 400, "format must be one of txt, srt"),
        (f"/transcription/{teleconsultation_id}/unknown-session", 404, "no transcription was found for this session"),
        (f"/transcription/{roomless}/s", 409, "the teleconsultation has no video room yet, so it has no sessions"),
    ]
    for path, status, reason in cases:
        response = await recording_client.get(path, headers=AS_DOCTOR)
        assert response.status_code == status, path
        assert response.json() == {"error": f"Failed GET /transcription: {reason}"}
    unknown = await recording_client.get("/transcription/room_xyz/s", headers=AS_DOCTOR)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Room with id room_xyz not found on CRUD"})


async def test_without_recording_there_are_no_transcriptions(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    teleconsultation_id, room_id = await teleconsultation_with_room(client, fake_kaleyra)
    assert fake_kaleyra.state.rooms[room_id].offline_transcription is False
    response = await client.get(f"/transcription/{teleconsultation_id}/session-1", headers=AS_PATIENT)
    assert response.status_code == 409
    assert "DEFAULT_RECORDING_TYPE is none" in response.json()["error"]


async def test_a_transcription_over_the_size_limit_is_abandoned(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    async with serve(recorded(fake_kaleyra, transcription_max_bytes=100), clock) as client:
        teleconsultation_id, room_id = await teleconsultation_with_room(client, fake_kaleyra)
        fake_kaleyra.state.add_transcription(room_id, "short", "x" * 100)
        fake_kaleyra.state.add_transcription(room_id, "long", "x" * 101)

        assert (await client.get(f"/transcription/{teleconsultation_id}/short", headers=AS_PATIENT)).status_code == 200
        response = await client.get(f"/transcription/{teleconsultation_id}/long", headers=AS_PATIENT)
        assert response.status_code == 502
        assert response.json() == {
            "error": "Failed GET /transcription: "
            "kaleyra transcription answer exceeds the configured maximum of 100 bytes"
        }


async def test_jitsi_has_no_transcriptions(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    settings = replace(kaleyra_settings(fake_kaleyra), video_provider="jitsi", kaleyra=None, recording_type="manual")
    async with serve(settings, clock) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        response = await client.get(f"/transcription/{teleconsultation_id}/session-1", headers=AS_PATIENT)
    assert response.status_code == 501
    assert response.json() == {
        "error": "Failed GET /transcription: the jitsi video provider does not support transcriptions"
    }


@pytest.mark.parametrize(
    ("session", "status"),
    [
        ("%2E%2E", 400),
        ("%2e", 400),
        ("..%2F..%2Fusers", 404),  # a separator once decoded: no such route
        ("a%5Cb", 400),
        ("a%00b", 400),
        ("a%25b", 400),
        ("x" * 257, 400),
    ],
)
async def test_a_session_id_that_could_move_the_provider_request_never_reaches_kaleyra(
    recording_client: Client, fake_kaleyra: FakeKaleyraServer, session: str, status: int
) -> None:
    teleconsultation_id, _ = await teleconsultation_with_room(recording_client, fake_kaleyra)
    calls = len(fake_kaleyra.state.calls)

    response = await recording_client.get(f"/transcription/{teleconsultation_id}/{session}", headers=AS_DOCTOR)

    assert response.status_code == status
    if status == 400:
        assert response.json()["error"].startswith("Failed GET /transcription: the session id must be 1 to 256")
    assert fake_kaleyra.state.calls[calls:] == []


async def test_a_literal_dot_dot_session_is_refused_too(
    recording_client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    teleconsultation_id, _ = await teleconsultation_with_room(recording_client, fake_kaleyra)
    calls = len(fake_kaleyra.state.calls)
    async with connection(recording_client) as raw:
        request = (
            f"GET /transcription/{teleconsultation_id}/.. HTTP/1.1\r\n"
            "host: x\r\nmiauserid: doc-1\r\nconnection: close\r\n\r\n"
        )
        await raw.send(request.encode())
        status, _ = await raw.answer()

    assert status == 400
    assert fake_kaleyra.state.calls[calls:] == []
