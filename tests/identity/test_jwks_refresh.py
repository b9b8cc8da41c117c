"""JwksTokenVerifier's key cache: TTL, refresh on unknown key ids, its rate limit, rotation and JWKS outages."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.identity import JwksTokenVerifier, JwtSettings
from application.errors import Unauthorized
from tests.fakes.jwks import FakeJwks, SigningKey, hs256_token, signing_key
from tests.identity.conftest import AUDIENCE, ISSUER, NOW, FakeClock, claims, rejected

MakeVerifier = Callable[..., JwksTokenVerifier]


@asynccontextmanager
async def serving(body: bytes) -> AsyncIterator[str]:
    """A JWKS URL answering `body` as JSON."""

    async def answer(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/jwks", answer)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/jwks"))


def jwks_body(*keys: object) -> bytes:
    return json.dumps({"keys": list(keys)}).encode()


def verifier_at(url: str, session: aiohttp.ClientSession, clock: FakeClock) -> JwksTokenVerifier:
    return JwksTokenVerifier(session, JwtSettings(jwks_url=url, issuer=ISSUER, audience=AUDIENCE), clock=clock)


async def test_keys_are_fetched_once_and_cached_for_the_ttl(
    verifier: JwksTokenVerifier, idp: FakeJwks, rsa_key: SigningKey, ec_key: SigningKey, clock: FakeClock
) -> None:
    for key in (rsa_key, ec_key, rsa_key):
        await verifier.verify(key.mint(claims()))
    assert idp.state.fetches == 1

    clock.advance(301)
    await verifier.verify(rsa_key.mint(claims(exp=int(clock.now) + 60)))
    assert idp.state.fetches == 2


async def test_an_unknown_kid_triggers_exactly_one_refresh_then_rejection(
    verifier: JwksTokenVerifier, idp: FakeJwks, rsa_key: SigningKey, clock: FakeClock
) -> None:
    await verifier.verify(rsa_key.mint(claims()))
    clock.advance(31)
    stranger = signing_key("unknown-kid", "RSA", label="stranger")

    await rejected(verifier, stranger.mint(claims()))
    assert idp.state.fetches == 2


async def test_a_rotated_key_is_picked_up_by_the_refresh(
    verifier: JwksTokenVerifier, idp: FakeJwks, rsa_key: SigningKey, clock: FakeClock
) -> None:
    await verifier.verify(rsa_key.mint(claims()))
    successor = signing_key("rsa-2", "RSA", label="successor")
    idp.rotate(successor)
    clock.advance(31)

    assert (await verifier.verify(successor.mint(claims()))).user_id == "auth0|alice"
    assert idp.state.fetches == 2
    await rejected(verifier, rsa_key.mint(claims()))  # withdrawn, and now known to be
    assert idp.state.fetches == 2


async def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval(
    verifier: JwksTokenVerifier, idp: FakeJwks, rsa_key: SigningKey, clock: FakeClock
) -> None:
    await verifier.verify(rsa_key.mint(claims()))
    forged = [rsa_key.mint(claims(), headers={"kid": f"random-{number}"}) for number in range(60)]

    clock.advance(31)
    outcomes = await asyncio.gather(*(verifier.verify(token) for token in forged[:30]), return_exceptions=True)
    assert all(isinstance(outcome, Unauthorized) for outcome in outcomes)
    assert idp.state.fetches == 2
    clock.advance(29)
    for token in forged[30:]:
        await rejected(verifier, token)
    assert idp.state.fetches == 2

    clock.advance(1)
    await rejected(verifier, forged[0])
    assert idp.state.fetches == 3


async def test_a_jwks_server_that_is_down_means_unauthorized_until_it_recovers(
    verifier: JwksTokenVerifier, idp: FakeJwks, rsa_key: SigningKey, clock: FakeClock
) -> None:
    idp.state.down = True
    token = rsa_key.mint(claims(exp=int(NOW) + 3600))

    await rejected(verifier, token)
    await rejected(verifier, token)
    assert idp.state.fetches == 1  # failures are rate-limited too

    idp.state.down = False
    clock.advance(30)
    assert (await verifier.verify(token)).user_id == "auth0|alice"


async def test_known_keys_outlive_a_jwks_outage_for_a_bounded_time(
    make_verifier: MakeVerifier, idp: FakeJwks, rsa_key: SigningKey, clock: FakeClock
) -> None:
    verifier = make_verifier(jwks_max_stale_seconds=600)
    await verifier.verify(rsa_key.mint(claims()))
    idp.state.down = True

    clock.advance(300 + 599)
    assert (await verifier.verify(rsa_key.mint(claims(exp=int(clock.now) + 60)))).user_id == "auth0|alice"
    clock.advance(1)
    await rejected(verifier, rsa_key.mint(claims(exp=int(clock.now) + 60)))


async def test_an_unreachable_jwks_means_unauthorized(
    http_session: aiohttp.ClientSession, rsa_key: SigningKey, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeJwks(rsa_key) as idp:
        url = idp.jwks_url  # the port is free again once the fake stops
    verifier = verifier_at(url, http_session, clock)
    token = rsa_key.mint(claims())

    with caplog.at_level(logging.DEBUG, logger="adapters.identity"):
        await rejected(verifier, token)

    assert "JWKS unreachable" in caplog.text
    assert token not in caplog.text


async def test_a_hand_served_jwks_works(
    http_session: aiohttp.ClientSession, rsa_key: SigningKey, clock: FakeClock
) -> None:
    async with serving(jwks_body(rsa_key.public_jwk())) as url:
        verifier = verifier_at(url, http_session, clock)

        assert (await verifier.verify(rsa_key.mint(claims()))).user_id == "auth0|alice"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="too-deep"),
        pytest.param(b'{"keys": "nope"}', id="no-key-list"),
        pytest.param(jwks_body({"kid": "rsa-1", "kty": "RSA"}), id="key-without-material"),
        pytest.param(jwks_body("junk", {"kid": 5}, {"kid": "rsa-1", "kty": "RSA", "n": 1, "e": []}), id="junk-keys"),
    ],
)
async def test_a_broken_jwks_means_unauthorized(
    http_session: aiohttp.ClientSession, rsa_key: SigningKey, clock: FakeClock, body: bytes
) -> None:
    async with serving(body) as url:
        verifier = verifier_at(url, http_session, clock)

        await rejected(verifier, rsa_key.mint(claims()))


async def test_encryption_and_symmetric_keys_in_the_jwks_are_never_used(
    http_session: aiohttp.ClientSession, rsa_key: SigningKey, clock: FakeClock
) -> None:
    secret = b"a-shared-secret-that-is-long-enough-for-hs256"
    symmetric = {"kty": "oct", "kid": "sym", "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode()}
    encryption = {**rsa_key.public_jwk(with_alg=False), "use": "enc"}
    async with serving(jwks_body(symmetric, encryption)) as url:
        verifier = verifier_at(url, http_session, clock)

        await rejected(verifier, rsa_key.mint(claims()))
        await rejected(verifier, hs256_token(claims(), kid="sym", secret=secret))
