"""Fixtures for the identity adapters: one client session, the fakes on local sockets, a settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from adapters.identity import (
    Auth0ClientDirectory,
    AuthServiceSettings,
    CrudCustomIdResolver,
    CustomIdSettings,
    JwksTokenVerifier,
    JwtSettings,
)
from application.errors import Unauthorized
from tests.fakes.auth0_client import FakeAuth0Client
from tests.fakes.custom_id_service import FakeCustomIdService
from tests.fakes.jwks import FakeJwks, SigningKey, signing_key

NOW = 1_800_000_000.0
ISSUER = "https://tenant.example.auth0.com/"
AUDIENCE = "teleconsultation-service"
# Small enough to keep failing tests fast, large enough for a loaded CI machine to answer in time.
FAST = {"connect_timeout_seconds": 0.5, "total_timeout_seconds": 0.5}


class FakeClock:
    """Seconds since the epoch, moved only by the test."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims at NOW for user "auth0|alice"; an override of None removes the claim."""
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "auth0|alice",
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 600,
        "groups": ["doctor"],
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


async def rejected(verifier: JwksTokenVerifier, token: str) -> None:
    """Assert that `token` is refused with a bare Unauthorized that chains no library error."""
    with pytest.raises(Unauthorized) as raised:
        await verifier.verify(token)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def fake_auth0() -> AsyncIterator[FakeAuth0Client]:
    async with FakeAuth0Client() as fake:
        yield fake


@pytest.fixture
def make_directory(
    fake_auth0: FakeAuth0Client, http_session: aiohttp.ClientSession
) -> Callable[..., Auth0ClientDirectory]:
    def make(**options: Any) -> Auth0ClientDirectory:
        settings = AuthServiceSettings(**{"base_url": fake_auth0.base_url, **FAST, **options})
        return Auth0ClientDirectory(http_session, settings)

    return make


@pytest.fixture
async def fake_custom_ids() -> AsyncIterator[FakeCustomIdService]:
    async with FakeCustomIdService() as fake:
        yield fake


@pytest.fixture
def make_resolver(
    fake_custom_ids: FakeCustomIdService, http_session: aiohttp.ClientSession
) -> Callable[..., CrudCustomIdResolver]:
    def make(**options: Any) -> CrudCustomIdResolver:
        settings = CustomIdSettings(**{"endpoint": fake_custom_ids.users_url, **FAST, **options})
        return CrudCustomIdResolver(http_session, settings)

    return make


@pytest.fixture
def rsa_key() -> SigningKey:
    return signing_key("rsa-1", "RSA")


@pytest.fixture
def ec_key() -> SigningKey:
    return signing_key("ec-1", "EC")


@pytest.fixture
async def idp(rsa_key: SigningKey, ec_key: SigningKey) -> AsyncIterator[FakeJwks]:
    async with FakeJwks(rsa_key, ec_key) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_verifier(
    idp: FakeJwks, http_session: aiohttp.ClientSession, clock: FakeClock
) -> Callable[..., JwksTokenVerifier]:
    def make(**options: Any) -> JwksTokenVerifier:
        values = {"jwks_url": idp.jwks_url, "issuer": ISSUER, "audience": AUDIENCE, **FAST, **options}
        return JwksTokenVerifier(http_session, JwtSettings(**values), clock=clock)

    return make


@pytest.fixture
def verifier(make_verifier: Callable[..., JwksTokenVerifier]) -> JwksTokenVerifier:
    return make_verifier()
