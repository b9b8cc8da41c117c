"""POST /webhooks/kaleyra: Kaleyra's signed events in; a call that ended purges the call's uploads (issue 14)."""

from __future__ import annotations

import msgspec

from adapters.memory.clock import FixedClock
from entrypoints.service_config import DEFAULT_CONFIG
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_webhooks import kaleyra_body, kaleyra_signature, send_kaleyra_webhook
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import API_KEY, Client, kaleyra_settings, serve

AUDITED = msgspec.structs.replace(DEFAULT_CONFIG, auditorGroups=["auditor"])
AUDITOR = {"miauserid": "aud-1", "miausergroups": "auditor"}


def hook_url(client: Client) -> str:
    return str(client.base_url.join("/webhooks/kaleyra"))


async def provider_room(client: Client, fake: FakeKaleyraServer) -> tuple[str, str]:
    teleconsultation_id = await create(client, body(doctor(), patient()))
    (room_id,) = fake.state.rooms
    return teleconsultation_id, room_id


async def trail(client: Client, teleconsultation_id: str) -> list[str]:
    answer = await client.get("/audit/events", params={"teleconsultationId": teleconsultation_id}, headers=AUDITOR)
    return [e["type"] for e in reversed(answer.json()["events"])]


async def test_a_call_ended_webhook_purges_the_calls_uploads_once(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    settings = kaleyra_settings(fake_kaleyra, delete_uploads=True)
    async with serve(settings, clock, AUDITED) as client:
        teleconsultation_id, room_id = await provider_room(client, fake_kaleyra)
        for _ in range(3):
            fake_kaleyra.state.add_upload(room_id)
        other = fake_kaleyra.state.add_upload("another-room")
        status, text = await fake_kaleyra.send_webhook(hook_url(client), "on_call_ended", room_id, event_id="ev-1")
        assert (status, text) == (200, '{"received":true}')
        assert list(fake_kaleyra.state.uploads) == [other]
        # Kaleyra retries until it sees a 200: a repeat is acknowledged and does nothing more.
        fake_kaleyra.state.add_upload(room_id)
        status, _ = await fake_kaleyra.send_webhook(hook_url(client), "on_call_ended", room_id, event_id="ev-1")
        assert status == 200
        assert len(fake_kaleyra.state.uploads) == 2
        assert await trail(client, teleconsultation_id) == [
            "teleconsultation.created",
            "room.created",
            "uploads.deleted",
            "call.ended",
        ]


async def test_without_the_upload_flag_a_call_ended_only_leaves_its_event(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    async with serve(kaleyra_settings(fake_kaleyra), clock, AUDITED) as client:
        teleconsultation_id, room_id = await provider_room(client, fake_kaleyra)
        fake_kaleyra.state.add_upload(room_id)
        assert (await fake_kaleyra.send_webhook(hook_url(client), "on_call_ended", room_id))[0] == 200
        assert len(fake_kaleyra.state.uploads) == 1
        assert (await trail(client, teleconsultation_id))[-1] == "call.ended"


async def test_confirmed_and_assumed_event_names_map_to_ours(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    async with serve(kaleyra_settings(fake_kaleyra), clock, AUDITED) as client:
        teleconsultation_id, room_id = await provider_room(client, fake_kaleyra)
        for name in ("on_call_incoming", "on_recording_available", "on_transcription_available", "on_whatever"):
            assert (await fake_kaleyra.send_webhook(hook_url(client), name, room_id))[0] == 200
        assert (await fake_kaleyra.send_webhook(hook_url(client), "on_call_ended", "unknown-room"))[0] == 200
        assert (await trail(client, teleconsultation_id))[2:] == [
            "call.started",
            "recording.available",
            "transcription.available",
        ]


async def test_unsigned_or_wrongly_signed_requests_are_refused(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    async with serve(kaleyra_settings(fake_kaleyra, delete_uploads=True), clock, AUDITED) as client:
        teleconsultation_id, room_id = await provider_room(client, fake_kaleyra)
        fake_kaleyra.state.add_upload(room_id)
        payload = kaleyra_body("on_call_ended", room_id)
        assert (await send_kaleyra_webhook(hook_url(client), payload, api_key=None))[0] == 401
        assert (await send_kaleyra_webhook(hook_url(client), payload, api_key="another-key"))[0] == 401
        tampered = await client.post(
            "/webhooks/kaleyra",
            content=kaleyra_body("on_call_ended", room_id, extra="x"),
            headers={"bandyer-signature": kaleyra_signature(payload, API_KEY)},
        )
        assert tampered.status_code == 401
        assert len(fake_kaleyra.state.uploads) == 1
        assert await trail(client, teleconsultation_id) == ["teleconsultation.created", "room.created"]
        garbage = await client.post(
            "/webhooks/kaleyra", content=b"[]", headers={"bandyer-signature": kaleyra_signature(b"[]", API_KEY)}
        )
        assert garbage.status_code == 400
