"""What only the MongoDB adapter promises: the stored shape, indexes, failures, and the embedded server."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import bson
import pytest
from beanie import init_beanie
from bson.codec_options import CodecOptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import AsyncMongoClient
from pymongo.errors import BulkWriteError

from adapters.memory.clock import FixedClock
from adapters.mongo.documents import WRITER_ID, BoundDocuments, bind_documents
from adapters.mongo.embedded import MEMORY, EmbeddedDataDirectoryInUse, EmbeddedMongoServer, EmbeddedServerError
from adapters.mongo.events import MongoEventLog
from adapters.mongo.lifecycle import MongoStore, MongoTimeouts, open_mongo_store
from adapters.mongo.mapping import to_document, to_domain
from application.dto import UserMapping
from application.errors import StoredDocumentUnreadable, StoreUnavailable
from application.events import Event
from domain.duration_policy import Schedule
from domain.privileges import Privilege
from domain.teleconsultation import Participant, Teleconsultation
from tests.builders import T0
from tests.processes import eventually, store_of_a_killed_service, stuck_store_of_a_dead_service
from tests.store.conftest import TELECONSULTATIONS, USER_MAP, MongoTarget, RawDatabase, add_one, map_user

ROOT = Path(__file__).resolve().parents[2]
STANDARD_FIELDS = {"_id", "__STATE__", "createdAt", "updatedAt", "creatorId", "updaterId"}
QUICK = MongoTimeouts(server_selection_ms=300, connect_ms=300, socket_ms=1_000, ping_seconds=0.5)


async def test_a_teleconsultation_is_stored_with_the_crud_field_names(
    mongo_store: MongoStore, raw_database: RawDatabase, clock: FixedClock
) -> None:
    teleconsultation = await add_one(mongo_store)
    raw = await raw_database[TELECONSULTATIONS].find_one({})
    assert raw is not None
    assert set(raw) == STANDARD_FIELDS | {
        "bandyerRoomId",
        "participantsNumber",
        "participants",
        "startDate",
        "endDate",
        "version",
        "roomsToDelete",
    }
    assert str(raw["_id"]) == teleconsultation.id
    assert raw["__STATE__"] == "PUBLIC"
    assert raw["createdAt"] == raw["updatedAt"] == clock.now()
    assert raw["creatorId"] == raw["updaterId"] == WRITER_ID
    assert raw["bandyerRoomId"] is None
    assert (raw["participantsNumber"], raw["version"]) == (2, 1)
    assert raw["startDate"] == teleconsultation.schedule.start
    assert set(raw["participants"][0]) == {
        "userId",
        "resolvedUserId",
        "userBandyerId",
        "accessLinkURL",
        "privilege",
        "privilegeGuessed",
        "groups",
        "fullName",
        "language",
    }
    assert raw["participants"][0]["privilege"] == "plus"


async def test_a_save_moves_updated_at_and_a_discard_moves_to_the_trash(
    mongo_store: MongoStore, raw_database: RawDatabase, clock: FixedClock
) -> None:
    teleconsultation = await add_one(mongo_store)
    created = clock.now()
    teleconsultation.attach_room("room-1", {"p-doc-1": "https://video.invalid/1"})
    await mongo_store.teleconsultations.save(teleconsultation)
    raw = await raw_database[TELECONSULTATIONS].find_one({})
    assert raw is not None
    assert (raw["bandyerRoomId"], raw["participants"][0]["accessLinkURL"]) == ("room-1", "https://video.invalid/1")
    later = clock.advance(timedelta(minutes=5))
    teleconsultation.discard()
    await mongo_store.teleconsultations.save(teleconsultation)
    raw = await raw_database[TELECONSULTATIONS].find_one({})
    assert raw is not None
    # One write: trashed, still naming its room, and listing it as still to delete.
    assert (raw["__STATE__"], raw["bandyerRoomId"], raw["version"]) == ("TRASH", "room-1", 3)
    assert raw["roomsToDelete"] == ["room-1"]
    assert raw["participants"][0]["accessLinkURL"] is None
    assert (raw["createdAt"], raw["updatedAt"]) == (created, later)


async def test_fields_the_service_does_not_know_survive_a_save(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    teleconsultation = await add_one(mongo_store)
    await raw_database[TELECONSULTATIONS].update_one({}, {"$set": {"teleconsultationState": "legacy"}})
    await mongo_store.teleconsultations.save(teleconsultation)
    raw = await raw_database[TELECONSULTATIONS].find_one({})
    assert raw is not None
    assert raw["teleconsultationState"] == "legacy"


async def test_a_document_no_version_ever_wrote_is_an_error_naming_the_field(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    teleconsultation = await add_one(mongo_store)
    await raw_database[TELECONSULTATIONS].update_one({}, {"$unset": {"startDate": ""}})
    with pytest.raises(
        StoredDocumentUnreadable, match=f"teleconsultation {teleconsultation.id} .* startDate is missing"
    ):
        await mongo_store.teleconsultations.get(teleconsultation.id)
    await raw_database[TELECONSULTATIONS].update_one({}, {"$set": {"startDate": "tomorrow"}})
    with pytest.raises(StoredDocumentUnreadable, match="startDate is not a date"):
        await mongo_store.teleconsultations.get(teleconsultation.id)


async def test_a_user_mapping_is_stored_with_the_crud_field_names_and_a_unique_index(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    await map_user(mongo_store.user_ids, UserMapping("auth0|abc", "kaleyra_1", "Joe Smith", ("doctor",)))
    raw = await raw_database[USER_MAP].find_one({})
    assert raw is not None
    assert set(raw) == STANDARD_FIELDS | {"receivedUserId", "bandyerId", "fullName", "groups"}
    assert (raw["receivedUserId"], raw["bandyerId"], raw["groups"]) == ("auth0|abc", "kaleyra_1", ["doctor"])
    indexes = (await raw_database[USER_MAP].index_information()).values()
    assert any(i["key"] == [("receivedUserId", 1)] and i.get("unique") for i in indexes)


async def test_with_the_unique_index_a_roster_lookup_costs_the_same_on_a_big_map_as_on_a_small_one(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    """A query under `$or` scans the whole map on the embedded store, however the keys are indexed."""
    roster = [f"roster-{n}" for n in range(10)]
    await raw_database[USER_MAP].insert_many([{"receivedUserId": user, "bandyerId": f"kal-{user}"} for user in roster])

    async def lookup_seconds() -> float:
        timings = []
        for _ in range(7):
            began = time.perf_counter()
            assert len(await mongo_store.user_ids.find_many(roster)) == len(roster)
            reserved = await mongo_store.user_ids.reserve_new(["someone-new"], "a", now=T0, until=T0 + timedelta(1))
            assert reserved == {"someone-new"}
            await mongo_store.user_ids.abandon("someone-new", "a")
            timings.append(time.perf_counter() - began)
        return sorted(timings)[3]

    small = await lookup_seconds()
    filler = [{"receivedUserId": f"filler-{n}", "bandyerId": f"kal-{n}"} for n in range(3000)]
    await raw_database[USER_MAP].insert_many(filler)
    big = await lookup_seconds()

    assert big < 4 * small + 0.01, (small, big)  # scanning 3000 rows takes over 100 ms


async def test_with_the_unique_index_a_row_keyed_by_the_pre_1_2_0_auth0id_is_still_the_mapping_of_its_id(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    """The index allows one row without receivedUserId; a reservation beside it would mean a second provider user."""
    await raw_database[USER_MAP].insert_one({"auth0Id": "auth0|old", "bandyerId": "kal_old", "groups": []})
    until = T0 + timedelta(seconds=30)

    assert await mongo_store.user_ids.reserve_new(["auth0|old", "new"], "a", now=T0, until=until) == {"new"}
    assert await mongo_store.user_ids.reserve("auth0|old", "a", now=T0, until=until) == UserMapping(
        "auth0|old", "kal_old"
    )
    assert await mongo_store.user_ids.find_many(["auth0|old", "new"]) == {
        "auth0|old": UserMapping("auth0|old", "kal_old")
    }
    assert await raw_database[USER_MAP].count_documents({"receivedUserId": "auth0|old"}) == 0


async def test_a_reservation_is_a_draft_entry_without_a_provider_user_until_completed(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    await mongo_store.user_ids.reserve("auth0|abc", "instance-a", now=T0, until=T0 + timedelta(seconds=30))
    raw = await raw_database[USER_MAP].find_one({})
    assert raw is not None
    assert (raw["__STATE__"], raw["reservedBy"], "bandyerId" in raw) == ("DRAFT", "instance-a", False)
    await mongo_store.user_ids.complete(UserMapping("auth0|abc", "kaleyra_1"), "instance-a")
    raw = await raw_database[USER_MAP].find_one({})
    assert raw is not None
    assert (raw["__STATE__"], raw["bandyerId"]) == ("PUBLIC", "kaleyra_1")
    assert not {"reservedBy", "reservedUntil"} & set(raw)


async def test_idempotency_records_have_a_unique_key_and_a_ttl_index(
    mongo_store: MongoStore, raw_database: RawDatabase
) -> None:
    until = T0 + timedelta(days=1)
    await mongo_store.idempotency.begin("key-hash", "body-hash", "attempt", now=T0, lease_until=until, expires_at=until)
    collection = raw_database["teleconsultations_idempotency_keys"]
    raw = await collection.find_one({})
    assert raw is not None
    assert (raw["key"], raw["fingerprint"], raw["result"]) == ("key-hash", "body-hash", None)
    indexes = list((await collection.index_information()).values())
    assert any(i["key"] == [("key", 1)] and i.get("unique") for i in indexes)
    # Real MongoDB removes expired records itself; correctness never depends on it (reads check expiry).
    assert any(i["key"] == [("expiresAt", 1)] and i.get("expireAfterSeconds") == 0 for i in indexes)


async def test_collection_names_come_from_the_configuration(
    mongo_target: MongoTarget, raw_database: RawDatabase
) -> None:
    async with (
        open_mongo_store(mongo_target.url, mongo_target.database, "tc_a", "users_a") as first,
        open_mongo_store(mongo_target.url, mongo_target.database, "tc_b", "users_b") as second,
    ):
        in_first = await add_one(first)
        await map_user(second.user_ids, UserMapping("u", "p"))
        assert await raw_database["tc_a"].count_documents({}) == 1
        assert await raw_database["tc_b"].count_documents({}) == 0
        assert await raw_database["users_b"].count_documents({}) == 1
        assert await first.user_ids.find("u") is None
        assert (await first.teleconsultations.get(in_first.id)).id == in_first.id
    assert not {TELECONSULTATIONS, USER_MAP} & set(await raw_database.list_collection_names())


async def test_an_unreachable_server_is_store_unavailable_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        async with open_mongo_store(f"mongodb://127.0.0.1:{closed_port}/", "db", "tc", "users", timeouts=QUICK):
            pass
    assert time.monotonic() - started < 3


def test_a_store_whose_server_went_away_is_unavailable_and_not_ready() -> None:
    # Closing a client whose monitor is reconnecting cancels it mid-connect; pymongo 4.20 closes that
    # socket on OSError but not on CancelledError, and the loop keeps it until it closes. So this runs
    # on a loop of its own, and the driver's ResourceWarning is collected before the test ends.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        asyncio.run(lose_the_server())
        gc.collect()


async def lose_the_server() -> None:
    async with (
        EmbeddedMongoServer(MEMORY) as server,
        open_mongo_store(server.url, "db", "tc", "u", timeouts=QUICK) as store,
    ):
        teleconsultation = await add_one(store)
        assert await store.ping()
        await server.stop()
        with pytest.raises(StoreUnavailable):
            await store.teleconsultations.get(teleconsultation.id)
        with pytest.raises(StoreUnavailable):
            await store.user_ids.find("anyone")
        assert not await store.ping()


def environment_names(pid: int) -> set[bytes]:
    return {entry.split(b"=", 1)[0] for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")}


def is_running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a container's init may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_data_survives_a_restart_and_no_server_outlives_its_context(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with EmbeddedMongoServer(data) as server, open_mongo_store(server.url, "db", "tc", "u") as store:
        teleconsultation = await add_one(store)
        await map_user(store.user_ids, UserMapping("auth0|abc", "kaleyra_1"))
        pid = server.pid
    assert pid is not None
    assert not is_running(pid)
    assert "secantus listening" in (data / "secantusd.log").read_text()
    async with EmbeddedMongoServer(data) as server, open_mongo_store(server.url, "db", "tc", "u") as store:
        assert await store.teleconsultations.get(teleconsultation.id) == teleconsultation
        assert await store.user_ids.find("auth0|abc") == UserMapping("auth0|abc", "kaleyra_1")


async def test_a_server_that_cannot_start_reports_its_output(tmp_path: Path) -> None:
    server = EmbeddedMongoServer(tmp_path, cache_size="not-a-size")
    with pytest.raises(EmbeddedServerError, match="exited with code") as failure:
        async with server:
            pass
    assert not isinstance(failure.value, EmbeddedDataDirectoryInUse)
    assert "its last output:" in str(failure.value)
    assert server.pid is None


async def test_a_data_directory_in_use_is_named_in_one_line(tmp_path: Path) -> None:
    async with EmbeddedMongoServer(tmp_path):
        second = EmbeddedMongoServer(tmp_path)
        with pytest.raises(EmbeddedDataDirectoryInUse) as failure:
            async with second:
                pass
        assert str(failure.value) == (
            f"the embedded store's data directory {second.storage_path} is in use by another process (a running "
            "service?): stop it, or set EMBEDDED_MONGO_DATA_DIR to another directory"
        )
        assert isinstance(failure.value, StoreUnavailable)
        assert second.pid is None
        assert second.storage_path is not None
        assert second.storage_path.is_absolute()


async def test_an_unusable_data_directory_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(EmbeddedServerError, match="embedded data directory"):
        async with EmbeddedMongoServer(tmp_path / "a-file" / "data"):
            pass


async def test_a_missing_server_points_to_the_embedded_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EmbeddedServerError, match=r"'embedded' extra"):
        async with EmbeddedMongoServer(MEMORY):
            pass


def test_the_server_dies_with_the_process_that_started_it() -> None:
    script = textwrap.dedent(
        """
        import asyncio
        from adapters.mongo.embedded import EmbeddedMongoServer
        async def main():
            async with EmbeddedMongoServer(":memory:") as server:
                print(server.pid, flush=True)
                await asyncio.sleep(120)
        asyncio.run(main())
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, cwd=ROOT) as parent:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)  # no atexit, no finally: only the kernel can clean up now
    try:
        deadline = time.monotonic() + 10
        while is_running(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not is_running(server_pid)
    finally:
        if is_running(server_pid):
            os.kill(server_pid, signal.SIGKILL)


async def kept_document(data: Path) -> dict[str, Any] | None:
    async with EmbeddedMongoServer(data) as server:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.url)
        try:
            return await client.db.kept.find_one()
        finally:
            await client.close()


async def test_a_start_right_after_a_killed_service_finds_its_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = await store_of_a_killed_service(data)
    try:
        # What a supervisor restarting the service at once does: its store is killed with it (PR_SET_PDEATHSIG).
        assert await kept_document(data) == {"_id": "written before the crash"}
    finally:
        if is_running(store):
            os.kill(store, signal.SIGKILL)
    assert not is_running(store)


async def test_a_start_waits_for_the_store_of_a_dead_service_to_let_go_of_the_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    waiting = "waiting for the embedded store of a stopped service to let go of its data directory"
    store = await store_of_a_killed_service(data)  # leaves the data to find
    assert not is_running(store)
    caplog.set_level("INFO", logger="adapters.mongo.embedded")
    async with stuck_store_of_a_dead_service(data) as stuck:
        restart = asyncio.create_task(kept_document(data))
        try:
            await eventually(lambda: waiting in caplog.messages, what="the wait for the dead service's store")
            assert not restart.done()
            os.kill(stuck, signal.SIGKILL)
            assert await restart == {"_id": "written before the crash"}
        finally:
            restart.cancel()
            await asyncio.wait({restart})


async def test_a_store_of_a_dead_service_still_there_after_the_wait_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with stuck_store_of_a_dead_service(data) as stuck:
        started = time.monotonic()
        with pytest.raises(EmbeddedDataDirectoryInUse) as failure:
            async with EmbeddedMongoServer(data, stop_timeout=1):
                pass
        assert 1 <= time.monotonic() - started < 5
    assert failure.value.left_by_a_stopped_service == stuck
    assert str(failure.value) == (
        f"the embedded store's data directory {data} is still held by process {stuck}, the store of a service "
        "that stopped: stop that process, or set EMBEDDED_MONGO_DATA_DIR to another directory"
    )


async def test_a_server_of_a_running_service_is_refused_at_once_without_starting_another(tmp_path: Path) -> None:
    async with EmbeddedMongoServer(tmp_path, stop_timeout=30):
        second = EmbeddedMongoServer(tmp_path, stop_timeout=30)

        def spawn(executable: str) -> None:
            raise AssertionError("a second server was started on a data directory in use")

        second._spawn = spawn  # type: ignore[method-assign]
        started = time.monotonic()
        with pytest.raises(EmbeddedDataDirectoryInUse) as refused:
            async with second:
                pass
        assert time.monotonic() - started < 2
        assert refused.value.left_by_a_stopped_service is None


async def test_the_server_gets_none_of_the_services_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANDYER_API_SECRET_KEY", "kaleyra-s3cret")
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec_s3cret")
    monkeypatch.setenv("SECANTUS_TEST_FAST_STORAGE", "1")  # would switch the server's journal off
    async with EmbeddedMongoServer(tmp_path) as server:
        assert server.pid is not None
        names = environment_names(server.pid)
    assert b"BANDYER_API_SECRET_KEY" not in names
    assert b"WEBHOOK_SECRET" not in names
    assert b"SECANTUS_TEST_FAST_STORAGE" not in names
    assert b"PATH" in names


texts = st.text(max_size=12)
maybe_texts = st.none() | texts
participants = st.builds(
    Participant,
    user_id=texts,
    resolved_user_id=texts,
    provider_user_id=texts,
    privilege=st.sampled_from(Privilege),
    full_name=maybe_texts,
    groups=st.lists(texts, max_size=3).map(tuple),
    language=maybe_texts,
    access_link=maybe_texts,
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))])
# BSON keeps milliseconds; the adapters document that truncation and the contract suite tests it.
moments = st.datetimes(datetime(1971, 1, 1), datetime(2200, 1, 1), timezones=zones).map(
    lambda m: m.replace(microsecond=m.microsecond // 1000 * 1000)
)


@st.composite
def teleconsultations(draw: st.DrawFn) -> Teleconsultation:
    start = draw(moments)
    return Teleconsultation(
        id=draw(st.binary(min_size=12, max_size=12)).hex(),
        participants_number=draw(st.integers(0, 25)),
        participants=tuple(draw(st.lists(participants, max_size=3))),
        schedule=Schedule(start, start + timedelta(milliseconds=draw(st.integers(0, 86_400_000)))),
        provider_room_id=draw(maybe_texts),
        version=draw(st.integers(0, 2**31)),
        discarded=draw(st.booleans()),
    )


@pytest.fixture
async def bound_documents(mongo_target: MongoTarget) -> AsyncIterator[BoundDocuments]:
    """Document classes initialised once; the property below only converts, it never writes."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_target.url)
    try:
        documents = bind_documents("tc", "users", "cleanups", "keys")
        await init_beanie(database=client[mongo_target.database], document_models=list(documents))
        yield documents
    finally:
        await client.close()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(teleconsultation=teleconsultations())
async def test_mapping_round_trips_through_bson(
    bound_documents: BoundDocuments, teleconsultation: Teleconsultation
) -> None:
    model = bound_documents.teleconsultations
    document = to_document(teleconsultation, model, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert to_domain(document) == teleconsultation
    stored: dict[str, Any] = bson.decode(
        bson.encode(document.model_dump(by_alias=True)), codec_options=CodecOptions(tz_aware=True, tzinfo=UTC)
    )
    assert to_domain(model.model_validate(stored)) == teleconsultation


class RefusingEvents:
    """A collection whose inserts the server refuses the way `failure` says."""

    def __init__(self, failure: dict[str, Any]) -> None:
        self._failure = failure

    async def insert_many(self, documents: list[dict[str, Any]], *, ordered: bool) -> None:
        raise BulkWriteError({"writeErrors": [], "writeConcernErrors": [], **self._failure})


@pytest.mark.parametrize(
    "failure",
    [
        {"writeErrors": [{"index": 0, "code": 121, "errmsg": "Document failed validation: Jane Doe"}]},
        {"writeConcernErrors": [{"code": 64, "errmsg": "waiting for replication timed out"}]},
        {},  # a failure that names no document
    ],
)
async def test_events_the_server_refuses_are_store_unavailable_without_quoting_them(failure: dict[str, Any]) -> None:
    class RefusingModel:
        @staticmethod
        def get_pymongo_collection() -> RefusingEvents:
            return RefusingEvents(failure)

    log = MongoEventLog(RefusingModel)  # type: ignore[arg-type]
    event = Event("event-1", T0, "teleconsultation.created", "a" * 24, "Jane Doe", "success", "req-1")
    with pytest.raises(StoreUnavailable) as refused:
        await log.append_all([event])
    assert "Jane Doe" not in str(refused.value)
    assert refused.value.__cause__ is None
