"""Shared test settings and fixtures: hypothesis profiles, one embedded MongoDB-wire server per session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest_asyncio
from hypothesis import HealthCheck, settings

from adapters.mongo.embedded import MEMORY, EmbeddedMongoServer

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# The server object holds no event-loop state (a plain child process), so a session-loop fixture
# can serve tests that each run on their own function-scoped loop. Started only by tests that ask for it.
@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def embedded_server() -> AsyncIterator[EmbeddedMongoServer]:
    async with EmbeddedMongoServer(MEMORY) as server:
        yield server


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def standalone_server() -> AsyncIterator[EmbeddedMongoServer]:
    """The embedded server presenting itself as a standalone mongod, which refuses change streams."""
    async with EmbeddedMongoServer(MEMORY, standalone=True) as server:
        yield server
