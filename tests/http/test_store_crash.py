"""The embedded store killed with SIGKILL: no confirmed write is lost, and the service recovers by itself.

Each scenario runs on an event loop of its own: when the store dies, pymongo 4.20 can be cancelled while it
reconnects and leave that socket to the loop (it closes sockets on OSError, not on CancelledError), so the
driver's ResourceWarning is collected with the loop, before the test ends (as in tests/store/test_mongo_specifics).
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from adapters.memory.clock import FixedClock
from entrypoints.settings import Settings, StoreSettings
from tests.builders import T0
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client, serve
from tests.processes import eventually, eventually_async, kill_hard, pids_running, state


def run_isolated(scenario: Callable[[], Awaitable[None]]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        asyncio.run(scenario())  # type: ignore[arg-type]
        gc.collect()


def embedded_settings(data_dir: Path, **store: object) -> Settings:
    return Settings(
        video_provider="memory",
        store=StoreSettings(backend="mongo", mongodb_url=None, embedded_data_dir=data_dir, **store),  # type: ignore[arg-type]
    )


def the_store_of(data_dir: Path) -> int:
    pids = pids_running(data_dir)
    assert len(pids) == 1, pids
    return pids[0]


def clock() -> FixedClock:
    return FixedClock(T0 - timedelta(days=1))


async def ready_is(client: Client, status: int) -> bool:
    return (await client.get("/-/ready")).status_code == status


async def live_is(client: Client, status: int) -> bool:
    return (await client.get("/-/healthz")).status_code == status


def test_writes_answered_201_and_204_survive_a_sigkill_of_the_store(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = embedded_settings(data_dir)

    async def scenario() -> None:
        async with serve(settings, clock()) as client:
            kept = [await create(client, body(doctor(), patient())) for _ in range(3)]
            cancelled = await create(client, body(doctor("doc-2"), patient("pat-2")))
            assert (await client.delete(f"/teleconsultation/{cancelled}")).status_code == 204
            changed = await client.patch(f"/teleconsultation/{kept[0]}", json={"duration_in_seconds": 1800})
            assert changed.status_code == 204
            store = the_store_of(data_dir)
            kill_hard(store)
            await eventually(lambda: state(store) is None, what="the killed store was reaped")

        async with serve(settings, clock()) as client:
            for room_id in kept:
                view = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})
                assert view.status_code == 200, f"a creation answered 201 was lost: {view.text}"
            gone = await client.get(f"/teleconsultation/{cancelled}", headers={"miauserid": "pat-2"})
            assert gone.status_code == 404, "a cancellation answered 204 was lost"

    run_isolated(scenario)


def test_a_killed_store_is_reaped_and_restarted_while_the_service_keeps_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    async def scenario() -> None:
        async with serve(embedded_settings(data_dir), clock()) as client:
            room_id = await create(client, body(doctor(), patient()))
            first = the_store_of(data_dir)
            kill_hard(first)
            liveness: set[int] = set()

            async def ready_answers(status: int) -> bool:
                liveness.add((await client.get("/-/healthz")).status_code)
                return await ready_is(client, status)

            await eventually_async(lambda: ready_answers(503), what="/-/ready answering 503 while the store is down")
            await eventually_async(lambda: ready_answers(200), what="/-/ready answering 200 again")
            assert liveness == {200}, "liveness failed while the store was recovering"
            assert state(first) is None, "the killed store was left as a zombie"
            assert the_store_of(data_dir) != first

            view = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})
            assert view.status_code == 200
            await create(client, body(doctor(), patient()))

    run_isolated(scenario)


def test_liveness_fails_once_the_restart_budget_is_spent(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    async def scenario() -> None:
        async with serve(embedded_settings(data_dir, embedded_max_restarts=1), clock()) as client:
            kill_hard(the_store_of(data_dir))
            await eventually_async(lambda: ready_is(client, 200), what="the one restart allowed")
            assert (await client.get("/-/healthz")).status_code == 200

            second = the_store_of(data_dir)
            kill_hard(second)
            await eventually_async(lambda: live_is(client, 503), what="/-/healthz answering 503")
            assert (await client.get("/-/healthz")).json() == {"status": "KO"}
            assert (await client.get("/-/ready")).status_code == 503
            assert state(second) is None, "the killed store was left as a zombie"
            assert pids_running(data_dir) == []
            refused = await client.post("/teleconsultation", json=body(doctor(), patient()))
            assert refused.status_code == 503

    run_isolated(scenario)
