"""`python -m entrypoints sweep` as an operator runs it: a real process, the embedded store, the fake Kaleyra."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.mongo.embedded import EmbeddedMongoServer
from adapters.mongo.lifecycle import MongoStore, open_mongo_store
from tests.commands.service_process import run_command
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import Fault

API_KEY = "sweep-command-api-key"


@pytest.fixture
async def fake_kaleyra() -> AsyncIterator[FakeKaleyraServer]:
    async with FakeKaleyraServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def environment(embedded_server: EmbeddedMongoServer, fake_kaleyra: FakeKaleyraServer) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "MONGODB_URL": embedded_server.url,
        "MONGODB_DATABASE": f"test_{uuid.uuid4().hex}",
        "BANDYER_BASE_URL": fake_kaleyra.base_url,
        "BANDYER_API_SECRET_KEY": API_KEY,
        "PROVIDER_TIMEOUT_SECONDS": "2",
    }


@pytest.fixture
async def store(embedded_server: EmbeddedMongoServer, environment: dict[str, str]) -> AsyncIterator[MongoStore]:
    async with open_mongo_store(
        embedded_server.url, environment["MONGODB_DATABASE"], "teleconsultations", "teleconsultations_users"
    ) as opened:
        yield opened


async def run_sweep(environment: dict[str, str]) -> tuple[int, str, str]:
    return await run_command("sweep", env=environment)


async def test_the_sweep_command_deletes_queued_rooms_and_says_so(
    environment: dict[str, str], store: MongoStore, fake_kaleyra: FakeKaleyraServer
) -> None:
    for room in ("room_a", "room_b"):
        await store.cleanups.add(room)

    status, out, _ = await run_sweep(environment)

    assert (status, out.strip()) == (0, "no provider room pending deletion")
    assert fake_kaleyra.state.count("DELETE", "/v2/rooms/room_a") == 1
    assert fake_kaleyra.state.count("DELETE", "/v2/rooms/room_b") == 1
    assert await store.cleanups.count() == 0


async def test_rooms_the_provider_still_refuses_to_delete_make_it_fail(
    environment: dict[str, str], store: MongoStore, fake_kaleyra: FakeKaleyraServer
) -> None:
    await store.cleanups.add("room_a")
    fake_kaleyra.state.fail_next("delete_room", Fault.SERVER_ERROR, times=100)

    status, out, err = await run_sweep(environment)

    assert (status, out.strip()) == (1, "1 provider room(s) still pending deletion")
    assert await store.cleanups.pending(10) == ["room_a"]
    assert API_KEY not in out + err


async def test_a_store_held_by_a_running_service_is_named_and_exits_store_unavailable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "EMBEDDED_MONGO_DATA_DIR": str(data_dir),
        "VIDEO_PROVIDER": "memory",
    }
    async with EmbeddedMongoServer(data_dir) as service_store:
        status, out, err = await run_sweep(environment)
        assert service_store.returncode is None, "the sweep disturbed the store it found in use"

    assert status == 3, err
    assert out == ""
    assert err.splitlines() == [
        f"sweep failed: the embedded store's data directory {service_store.storage_path} is in use by another "
        "process (a running service?): stop it, or set EMBEDDED_MONGO_DATA_DIR to another directory"
    ]
