"""The README's default: the service starts its own embedded MongoDB-wire server and keeps data across restarts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.memory.clock import FixedClock
from tests.builders import T0
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import kaleyra_settings, serve, with_store


async def test_lifecycle_on_the_embedded_store_survives_a_restart(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    settings = with_store(kaleyra_settings(fake_kaleyra), backend="mongo", mongodb_url=None, embedded_data_dir=data_dir)
    async with serve(settings, clock) as client:
        assert (await client.get("/-/ready")).json() == {"status": "OK"}
        room_id = await create(client, body(doctor(), patient()))
        before = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})
        assert before.json()["accessLinkURL"] is None
        clock.set(T0)
        after = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})
        assert after.json()["accessLinkURL"]
        clock.set(T0 - timedelta(days=1))
        patched = await client.patch(f"/teleconsultation/{room_id}", json={"duration_in_seconds": 1800})
        assert patched.status_code == 204
    assert (data_dir / "secantusd.log").exists()

    async with serve(settings, clock) as client:
        view = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})
        assert view.status_code == 200
        assert [p["fullName"] for p in view.json()["participantsBandyerCall"]] == ["Joe Smith", "Jane Doe"]
        # The same external ids reuse their provider users after a restart.
        await create(client, body(doctor(), patient()))
        assert len(fake_kaleyra.state.users) == 2
        assert (await client.delete(f"/teleconsultation/{room_id}")).status_code == 204
        assert (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})).status_code == 404
