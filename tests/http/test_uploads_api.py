"""DELETE /teleconsultation/{id}/uploads over HTTP, against the fake Kaleyra."""

from __future__ import annotations

from dataclasses import replace

from adapters.memory.clock import FixedClock
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import AS_DOCTOR, AS_PATIENT, body, create, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve


def room_of(fake: FakeKaleyraServer) -> str:
    (room_id,) = fake.state.rooms
    return room_id


async def test_without_the_flag_nothing_is_deleted(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    teleconsultation_id = await create(client, body(doctor(), patient()))
    fake_kaleyra.state.add_upload(room_of(fake_kaleyra))

    response = await client.delete(f"/teleconsultation/{teleconsultation_id}/uploads", headers=AS_PATIENT)
    assert response.status_code == 204
    assert response.content == b""
    # Only a participant is told even that.
    stranger = await client.delete(f"/teleconsultation/{teleconsultation_id}/uploads", headers={"miauserid": "x"})
    assert (stranger.status_code, stranger.json()) == (401, {"error": "Unauthorized user"})
    assert len(fake_kaleyra.state.uploads) == 1
    assert fake_kaleyra.state.count("GET", "/v2/uploads") == 0


async def test_every_page_of_files_is_deleted_and_a_retry_finishes_the_job(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    async with serve(kaleyra_settings(fake_kaleyra, delete_uploads=True), clock) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        state = fake_kaleyra.state
        for _ in range(25):  # two pages of 20
            state.add_upload(room_of(fake_kaleyra))
        elsewhere = state.add_upload("another-room")
        state.fail_next("delete_upload", "redirect", times=2)  # answered 307: not retried, counted as failed

        first = await client.delete(f"/teleconsultation/{teleconsultation_id}/uploads", headers=AS_DOCTOR)
        assert first.status_code == 200
        assert first.json() == {"total": 25, "deleted": 23}
        assert [r.query["offset"] for r in state.requests if r.path == "/v2/uploads"] == ["0", "20"]

        second = await client.delete(f"/teleconsultation/{teleconsultation_id}/uploads", headers=AS_DOCTOR)
        assert second.json() == {"total": 2, "deleted": 2}
        assert set(state.uploads) == {elsewhere}


async def test_no_room_no_files_and_unknown_ids_are_404(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    async with serve(kaleyra_settings(fake_kaleyra, delete_uploads=True), clock) as client:
        incomplete = await create(client, body(doctor(), number=2))
        response = await client.delete(f"/teleconsultation/{incomplete}/uploads", headers=AS_DOCTOR)
        assert (response.status_code, response.json()) == (200, {"total": 0, "deleted": 0})

        unknown = await client.delete("/teleconsultation/room_xyz/uploads", headers=AS_DOCTOR)
        assert unknown.status_code == 404
        assert unknown.json() == {"error": "Room with id room_xyz not found on CRUD"}


async def test_files_that_cannot_be_listed_are_a_502(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    async with serve(kaleyra_settings(fake_kaleyra, delete_uploads=True), clock) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        fake_kaleyra.state.fail_next("list_uploads", "500", times=3)
        response = await client.delete(f"/teleconsultation/{teleconsultation_id}/uploads", headers=AS_PATIENT)
        assert response.status_code == 502
        assert response.json() == {
            "error": f"Failed DELETE /teleconsultation/{teleconsultation_id}/uploads: kaleyra list_uploads status 500"
        }


async def test_jitsi_keeps_no_files(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    jitsi = replace(kaleyra_settings(fake_kaleyra), video_provider="jitsi", kaleyra=None)
    async with serve(replace(jitsi, delete_uploads=True), clock) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        response = await client.delete(f"/teleconsultation/{teleconsultation_id}/uploads", headers=AS_PATIENT)
        assert response.status_code == 501
        assert response.json() == {
            "error": f"Failed DELETE /teleconsultation/{teleconsultation_id}/uploads: "
            "the jitsi video provider does not support in-call file uploads"
        }
    async with serve(jitsi, clock) as client:  # the flag off means nothing to do, whatever the provider
        teleconsultation_id = await create(client, body(doctor(), patient()))
        response = await client.delete(f"/teleconsultation/{teleconsultation_id}/uploads", headers=AS_PATIENT)
        assert response.status_code == 204
