"""Confirmed writes survive a SIGKILL of the store; the embedded store is supervised and restarted when it dies."""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from adapters.mongo.embedded import MEMORY, EmbeddedMongoServer
from adapters.mongo.lifecycle import MongoTimeouts, open_mongo_store
from adapters.mongo.supervisor import RestartPolicy, ServerState, SupervisedEmbeddedServer
from application.dto import UserMapping
from tests.processes import eventually, kill_hard, pids_running, state
from tests.store.conftest import add_one, map_user

QUICK = MongoTimeouts(server_selection_ms=1_000, connect_ms=500, socket_ms=2_000, ping_seconds=0.5)


def run_isolated(scenario: Callable[[], Awaitable[None]]) -> None:
    # A store killed under the driver can leave it a socket cancelled mid-connect (pymongo 4.20 closes those on
    # OSError only): the scenario gets a loop of its own, and the ResourceWarning is collected with it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        asyncio.run(scenario())  # type: ignore[arg-type]
        gc.collect()


@pytest.mark.parametrize(
    ("choice", "document"),
    [
        # SecantusDB presents itself as a one-member replica set, so `majority` asks for the majority.
        ("majority", {"w": "majority", "j": True, "wtimeout": 5000}),
        ("journaled", {"w": 1, "j": True}),
        ("acknowledged", {"w": 1, "j": False}),
    ],
)
async def test_every_write_goes_out_with_the_chosen_write_concern(
    embedded_server: EmbeddedMongoServer, choice: str, document: dict[str, object]
) -> None:
    async with open_mongo_store(embedded_server.url, "wc", "tc", "u", write_concern=choice) as store:
        assert store.write_concern.document == document


async def test_an_unknown_write_concern_is_refused(embedded_server: EmbeddedMongoServer) -> None:
    with pytest.raises(ValueError, match="must be one of majority, journaled, acknowledged"):
        async with open_mongo_store(embedded_server.url, "wc", "tc", "u", write_concern="fast"):
            pass


def test_journaled_writes_survive_a_sigkill_even_of_a_server_that_does_not_sync_every_commit(tmp_path: Path) -> None:
    # Without `j: true` on the wire this server keeps its journal in memory: every write below was lost.
    async def scenario() -> None:
        async with (
            EmbeddedMongoServer(tmp_path, sync_on_commit=False) as server,
            open_mongo_store(server.url, "db", "tc", "u", timeouts=QUICK) as store,
        ):
            teleconsultation = await add_one(store)
            await map_user(store.user_ids, UserMapping("auth0|abc", "kaleyra_1"))
            await store.cleanups.add("room_1")
            assert server.pid is not None
            kill_hard(server.pid)
            await eventually(lambda: server.returncode is not None, what="the kill")
        async with (
            EmbeddedMongoServer(tmp_path) as server,
            open_mongo_store(server.url, "db", "tc", "u", timeouts=QUICK) as store,
        ):
            assert await store.teleconsultations.get(teleconsultation.id) == teleconsultation
            assert await store.user_ids.find("auth0|abc") == UserMapping("auth0|abc", "kaleyra_1")
            assert await store.cleanups.pending(10) == ["room_1"]

    run_isolated(scenario)


def test_a_restarted_server_keeps_its_url_and_the_store_reconnects(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            SupervisedEmbeddedServer(tmp_path, RestartPolicy(max_restarts=3)) as server,
            open_mongo_store(server.url, "db", "tc", "u", timeouts=QUICK, watch=server) as store,
        ):
            url, first = server.url, server.pid
            assert first is not None
            await store.cleanups.add("room_1")
            kill_hard(first)
            await eventually(lambda: not server.serving, what="the supervisor seeing the death")
            assert not await store.ping()
            assert store.recoverable()
            await eventually(lambda: server.serving, what="the restart")
            assert (server.url, state(first)) == (url, None)
            assert await store.cleanups.pending(10) == ["room_1"]
        assert server.state is ServerState.STOPPED
        assert pids_running(tmp_path) == []

    run_isolated(scenario)


def test_restarts_that_fail_spend_the_budget_and_then_the_supervisor_gives_up(tmp_path: Path) -> None:
    async def scenario() -> None:
        policy = RestartPolicy(max_restarts=2, initial_backoff_seconds=0.2)
        async with SupervisedEmbeddedServer(tmp_path, policy) as server:
            port = int(server.url.split(":")[2].split("/")[0])
            assert server.pid is not None
            kill_hard(server.pid)
            with socket.socket() as squatter:
                # Someone else takes the port the restarts need: each of them fails.
                squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                await eventually(lambda: _bound(squatter, port), what="taking the freed port")
                squatter.listen()
                await eventually(lambda: server.state is ServerState.FAILED, what="giving up", seconds=30)
            assert not server.recoverable
            assert pids_running(tmp_path) == []

    run_isolated(scenario)


def _bound(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


async def test_a_throw_away_server_is_supervised_too() -> None:
    async with SupervisedEmbeddedServer(MEMORY) as server:
        assert server.serving
        assert server.recoverable
