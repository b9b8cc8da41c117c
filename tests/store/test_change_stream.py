"""The teleconsultations' change stream on the real embedded store: what is told, refused, lost and resumed."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bson import ObjectId

from adapters.mongo.embedded import EmbeddedMongoServer
from adapters.mongo.lifecycle import MongoStore, MongoTimeouts, open_mongo_store
from adapters.mongo.supervisor import RestartPolicy, SupervisedEmbeddedServer
from tests.builders import make_teleconsultation
from tests.processes import eventually, kill_hard
from tests.store.conftest import TELECONSULTATIONS, RawDatabase, add_one

QUICK = MongoTimeouts(server_selection_ms=1_000, connect_ms=500, socket_ms=2_000, ping_seconds=0.5)


class HeardChanges:
    """A ChangeListener that writes down what it hears, and when the last change came."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, object]] = []
        self.told_at: dict[str, float] = {}

    def changed(self, teleconsultation_id: str) -> None:
        self.heard.append(("changed", teleconsultation_id))
        self.told_at[teleconsultation_id] = time.perf_counter()

    def missed(self) -> None:
        self.heard.append(("missed", None))

    def following(self, live: bool) -> None:
        self.heard.append(("following", live))

    @property
    def live(self) -> bool:
        states = [value for kind, value in self.heard if kind == "following"]
        return bool(states) and states[-1] is True

    def changed_ids(self) -> list[object]:
        return [value for kind, value in self.heard if kind == "changed"]


async def told(listener: HeardChanges, teleconsultation_id: str) -> None:
    await eventually(lambda: teleconsultation_id in listener.told_at, seconds=2, what="the change told")


@asynccontextmanager
async def following(store: MongoStore, listener: HeardChanges) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(store.changes.follow(listener))
    try:
        await eventually(lambda: listener.live or task.done(), seconds=5, what="the stream opening")
        yield task
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        if not task.done():
            task.print_stack()
        assert task.done(), "following did not stop when cancelled"


async def test_every_kind_of_write_is_told_by_id_once_the_stream_is_open(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    before = await add_one(mongo_store)  # before the stream: never told, the gap at the opening covers it
    listener = HeardChanges()
    collection = raw_database[TELECONSULTATIONS]
    async with following(mongo_store, listener):
        assert listener.heard == [("missed", None), ("following", True)]

        async def write_told(write: Awaitable[object]) -> None:
            heard = len(listener.changed_ids())
            await write
            await eventually(lambda: len(listener.changed_ids()) > heard, seconds=2, what="the write told")

        added = make_teleconsultation(id=await mongo_store.teleconsultations.next_id())
        await write_told(mongo_store.teleconsultations.add(added))  # an insert
        cancelled = await mongo_store.teleconsultations.get(added.id)
        cancelled.discard()
        await write_told(mongo_store.teleconsultations.save(cancelled))  # an update: to the trash
        stored = await collection.find_one({"_id": ObjectId(added.id)})
        assert stored is not None
        await write_told(collection.replace_one({"_id": stored["_id"]}, {**stored, "replaced": True}))
        await write_told(collection.delete_one({"_id": stored["_id"]}))
    assert set(listener.changed_ids()) == {added.id}
    assert before.id not in listener.changed_ids()


async def test_a_change_is_told_within_milliseconds(mongo_store: MongoStore) -> None:
    listener = HeardChanges()
    async with following(mongo_store, listener):
        delays = []
        for _ in range(20):
            teleconsultation = make_teleconsultation(id=await mongo_store.teleconsultations.next_id())
            started = time.perf_counter()
            await mongo_store.teleconsultations.add(teleconsultation)
            await told(listener, teleconsultation.id)
            delays.append(listener.told_at[teleconsultation.id] - started)
    delays.sort()
    assert delays[len(delays) // 2] < 0.1, delays  # from the write's start: on an idle machine, about 2 ms


async def test_a_store_without_change_streams_says_so_at_once(standalone_server: EmbeddedMongoServer) -> None:
    async with open_mongo_store(standalone_server.url, "standalone", TELECONSULTATIONS, "users") as store:
        listener = HeardChanges()
        await asyncio.wait_for(store.changes.follow(listener), 2)  # returns: nothing to follow
        assert listener.heard == [("following", False)]
        await add_one(store)  # the store itself works


async def test_a_stream_that_cannot_be_resumed_is_opened_afresh_and_the_gap_told(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    listener = HeardChanges()
    async with following(mongo_store, listener) as task:
        await add_one(mongo_store)
        await raw_database.drop_collection(TELECONSULTATIONS)  # the stream is invalidated: no resuming it
        await eventually(lambda: listener.heard.count(("missed", None)) == 2, seconds=3, what="the reopening")
        await eventually(lambda: listener.live, seconds=3, what="the stream live again")
        after = await add_one(mongo_store)
        await eventually(lambda: after.id in listener.changed_ids(), seconds=2, what="the next change")
        assert not task.done()
    assert listener.heard[:3] == [("missed", None), ("following", True), ("changed", listener.changed_ids()[0])]
    assert listener.heard[3:6] == [("following", False), ("missed", None), ("following", True)]


def run_isolated(scenario: Callable[[], Awaitable[None]]) -> None:
    # A killed store can leave the driver a socket on the loop it was cancelled on: collected with the loop.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        asyncio.run(scenario())  # type: ignore[arg-type]
        gc.collect()


def test_after_a_sigkill_and_a_restart_of_the_store_the_stream_resumes_where_it_stopped(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            SupervisedEmbeddedServer(tmp_path, RestartPolicy(max_restarts=3)) as server,
            open_mongo_store(server.url, "db", TELECONSULTATIONS, "u", timeouts=QUICK, watch=server) as store,
        ):
            listener = HeardChanges()
            async with following(store, listener) as task:
                first = await add_one(store)
                await eventually(lambda: first.id in listener.told_at, seconds=2, what="the first change")
                assert server.pid is not None
                kill_hard(server.pid)
                await eventually(lambda: not server.serving, what="the supervisor seeing the death")
                await eventually(lambda: server.serving, what="the restart")
                # Told whether the stream had resumed by then or not: it resumes after the last change told.
                second = await add_one(store)
                await eventually(lambda: second.id in listener.told_at, seconds=10, what="the change after restart")
                assert not task.done()
            assert listener.changed_ids() == [first.id, second.id]
            assert listener.heard.count(("missed", None)) == 1  # resumed: nothing was missed

    run_isolated(scenario)
