"""A store filled by the original service, in a fresh database of the session's embedded wire server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from adapters.mongo.embedded import EmbeddedMongoServer
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import FakeRoom, now_iso
from tests.http.conftest import auth0, clock, fake_kaleyra, json_logs  # noqa: F401 - shared fixtures
from tests.legacy.original_documents import LIVE_IDS, load, room_of

RawDatabase = AsyncDatabase[dict[str, Any]]


@pytest.fixture
def database_name() -> str:
    return f"test_{uuid.uuid4().hex}"


@pytest.fixture
async def raw_database(embedded_server: EmbeddedMongoServer, database_name: str) -> AsyncIterator[RawDatabase]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(embedded_server.url, tz_aware=True, tzinfo=UTC)
    try:
        yield client[database_name]
    finally:
        await client.close()


@pytest.fixture
async def original_store(raw_database: RawDatabase) -> RawDatabase:
    await load(raw_database)
    return raw_database


def seed_rooms(fake: FakeKaleyraServer) -> None:
    """The Kaleyra side of the original's documents: their rooms and users exist."""
    for document_id in LIVE_IDS:
        for user in (f"doc-{document_id[-1]}", f"pat-{document_id[-1]}"):
            fake.state.add_user("plus" if user.startswith("doc") else "basic", f"kal_{user}")
        fake.state.rooms[room_of(document_id)] = FakeRoom(
            room_id=room_of(document_id),
            participants=[],
            duration=None,
            recording="none",
            call_type="audio_video",
            live=True,
            description="",
            creation_date=now_iso(),
        )
