"""Fixtures for the VideoProvider adapters: a fake Kaleyra per test, a client session, each provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from adapters.jitsi import JitsiSettings, JitsiVideoProvider
from adapters.kaleyra import KaleyraSettings, KaleyraVideoProvider
from adapters.memory.video_provider import InMemoryVideoProvider
from application.dto import RoomMember, RoomSpec
from application.ports import VideoProvider
from domain.duration_policy import Schedule
from domain.privileges import Privilege
from tests.fakes.kaleyra_server import FakeKaleyraServer

API_KEY = "test-secret-api-key-4f1c"
JITSI_SECRET = "a-jitsi-test-secret-of-at-least-32-bytes"
# Small enough to keep failing tests fast, large enough for a loaded CI machine to answer in time.
FAST_KALEYRA: dict[str, Any] = {
    "connect_timeout_seconds": 0.5,
    "total_timeout_seconds": 0.5,
    "retry_attempts": 3,
    "retry_backoff_base_seconds": 0.01,
    "retry_backoff_max_seconds": 0.05,
    "retry_after_cap_seconds": 0.2,
}

SpecFactory = Callable[..., Awaitable[RoomSpec]]


@dataclass(frozen=True, slots=True)
class ProviderCase:
    """A provider plus what the contract may expect of it."""

    provider: VideoProvider
    personal_links: bool  # every member gets a link of their own
    keeps_details: bool  # room_details reports on rooms it created


@pytest.fixture
async def fake_kaleyra() -> AsyncIterator[FakeKaleyraServer]:
    async with FakeKaleyraServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def make_kaleyra(
    fake_kaleyra: FakeKaleyraServer, http_session: aiohttp.ClientSession
) -> Callable[..., KaleyraVideoProvider]:
    """Build a Kaleyra provider against the fake; keyword arguments override KaleyraSettings fields (or set
    `sleep`, `breaker`, `observer`)."""

    def build(**overrides: Any) -> KaleyraVideoProvider:
        collaborators = {name: overrides.pop(name) for name in ("sleep", "breaker", "observer") if name in overrides}
        fields = {"base_url": fake_kaleyra.base_url, "api_key": API_KEY, **FAST_KALEYRA, **overrides}
        return KaleyraVideoProvider(http_session, KaleyraSettings(**fields), **collaborators)

    return build


@pytest.fixture
def kaleyra(make_kaleyra: Callable[..., KaleyraVideoProvider]) -> KaleyraVideoProvider:
    return make_kaleyra()


@pytest.fixture
def memory_provider() -> InMemoryVideoProvider:
    return InMemoryVideoProvider()


@pytest.fixture
def jitsi_provider() -> JitsiVideoProvider:
    return JitsiVideoProvider(JitsiSettings(base_url="https://meet.example.org"))


@pytest.fixture
def jitsi_jwt_provider() -> JitsiVideoProvider:
    return JitsiVideoProvider(
        JitsiSettings(base_url="https://meet.example.org/", app_id="teleconsultation", app_secret=JITSI_SECRET)
    )


@pytest.fixture(params=["memory", "kaleyra", "jitsi", "jitsi-jwt"])
def provider_case(request: pytest.FixtureRequest) -> ProviderCase:
    # Fixtures are looked up lazily so that only the Kaleyra case starts a fake server.
    if request.param == "memory":
        return ProviderCase(request.getfixturevalue("memory_provider"), personal_links=True, keeps_details=True)
    if request.param == "kaleyra":
        return ProviderCase(request.getfixturevalue("kaleyra"), personal_links=True, keeps_details=True)
    if request.param == "jitsi":
        # An open Jitsi deployment has one public URL per room: nothing makes a link personal.
        return ProviderCase(request.getfixturevalue("jitsi_provider"), personal_links=False, keeps_details=False)
    return ProviderCase(request.getfixturevalue("jitsi_jwt_provider"), personal_links=True, keeps_details=False)


@pytest.fixture
def make_spec() -> SpecFactory:
    """Create `size` users at the provider (the first one plus) and describe a room for them."""

    async def build(
        provider: VideoProvider,
        size: int = 2,
        *,
        duration_seconds: int | None = 3600,
        tools: dict[str, bool] | None = None,
    ) -> RoomSpec:
        members = []
        for index in range(size):
            privilege = Privilege.PLUS if index == 0 else Privilege.BASIC
            user_id = await provider.create_user(privilege)
            members.append(RoomMember(user_id, privilege, tools, full_name=f"Person {index}"))
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
        return RoomSpec(
            members=tuple(members),
            schedule=Schedule(start, start + timedelta(hours=1)),
            duration_seconds=duration_seconds,
            opens_at=start - timedelta(minutes=15),
        )

    return build
