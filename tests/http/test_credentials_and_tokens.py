"""POST /credentials and the verified-token (jwt) mode, over HTTP."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.identity import AuthServiceSettings, JwtSettings
from adapters.memory.clock import FixedClock
from entrypoints.settings import ConfigurationError, IdentitySettings, Settings
from tests.fakes.auth0_client import FakeAuth0Client
from tests.fakes.jwks import FakeJwks, SigningKey, signing_key
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.conftest import auth_settings, kaleyra_settings, serve

START, END = "2030-02-22T15:30:00.000Z", "2030-02-22T16:30:00.000Z"
ISSUER, AUDIENCE = "https://idp.test/", "teleconsultation"


async def test_credentials_create_the_provider_user_once_and_map_the_token(
    fake_kaleyra: FakeKaleyraServer,
    auth0: FakeAuth0Client,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        first = await client.post("/credentials", json={"expiresIn": 600}, headers={"miauserid": "auth0|doc"})
        assert first.status_code == 201, first.text
        body = first.json()
        assert set(body) == {"accessToken", "expiresAt", "bandyerUserId"}
        assert fake_kaleyra.state.users[body["bandyerUserId"]] == "plus"
        sent = fake_kaleyra.state.last_request("POST", "/v2/sdk/credentials")
        assert json.loads(sent.body) == {"user_id": body["bandyerUserId"], "expires_in": 600}
        again = await client.post("/credentials", headers={"miauserid": "auth0|doc"})
        assert again.status_code == 201
        assert again.json()["bandyerUserId"] == body["bandyerUserId"]
        assert json.loads(fake_kaleyra.state.last_request("POST", "/v2/sdk/credentials").body)["expires_in"] == 3600
        assert len(fake_kaleyra.state.users) == 1
    assert body["accessToken"] not in caplog.text
    assert again.json()["accessToken"] not in caplog.text


async def test_credentials_refuse_missing_identity_and_out_of_range_lifetimes(
    fake_kaleyra: FakeKaleyraServer,
    auth0: FakeAuth0Client,
    clock: FixedClock,
) -> None:
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        anonymous = await client.post("/credentials", json={"expiresIn": 3600})
        assert anonymous.status_code == 401
        assert anonymous.json() == {"error": "Unauthorized user"}
        for lifetime in (359, 86_401, "long"):
            response = await client.post(
                "/credentials", json={"expiresIn": lifetime}, headers={"miauserid": "auth0|doc"}
            )
            assert response.status_code == 400
            assert set(response.json()) == {"statusCode", "error", "message"}


async def test_credentials_need_auth_mode(client: Any) -> None:
    response = await client.post("/credentials", headers={"miauserid": "doc-1"})
    assert response.status_code == 400
    assert "AUTH_SERVICE" in response.json()["error"]


async def test_jitsi_cannot_issue_sdk_credentials(
    fake_kaleyra: FakeKaleyraServer,
    auth0: FakeAuth0Client,
    clock: FixedClock,
) -> None:
    settings = replace(auth_settings(fake_kaleyra, auth0), video_provider="jitsi", kaleyra=None)
    async with serve(settings, clock) as client:
        response = await client.post("/credentials", headers={"miauserid": "auth0|doc"})
        assert response.status_code == 501
        assert response.json() == {
            "error": "Failed POST /credentials: the jitsi video provider does not support SDK credentials"
        }


@pytest.fixture
def key() -> SigningKey:
    return signing_key("key-1")


@pytest.fixture
async def jwks(key: SigningKey) -> AsyncIterator[FakeJwks]:
    async with FakeJwks(key) as server:
        yield server


def jwt_settings(fake_kaleyra: FakeKaleyraServer, jwks: FakeJwks) -> Settings:
    identity = IdentitySettings(
        auth_mode="jwt", jwt=JwtSettings(jwks_url=jwks.jwks_url, issuer=ISSUER, audience=AUDIENCE)
    )
    return replace(kaleyra_settings(fake_kaleyra), identity=identity)


def bearer(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


def token(key: SigningKey, **claims: Any) -> str:
    now = int(time.time())
    values: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "pat-1", "iat": now, "exp": now + 600}
    values.update(claims)
    return key.mint({name: value for name, value in values.items() if value is not None})


async def test_jwt_mode_trusts_only_verified_tokens(
    fake_kaleyra: FakeKaleyraServer, jwks: FakeJwks, key: SigningKey, clock: FixedClock
) -> None:
    async with serve(jwt_settings(fake_kaleyra, jwks), clock) as client:
        participants = {
            "number": 2,
            "data": [
                {"userId": "doc-1", "groups": ["doctor"], "fullName": "Joe"},
                {"userId": "pat-1", "groups": ["patient"], "fullName": "Jane"},
            ],
        }
        created = await client.post(
            "/teleconsultation",
            json={"participants": participants, "start_date": START, "end_date": END},
            headers=bearer(token(key, sub="doc-1", groups=["doctor"])),
        )
        room = f"/teleconsultation/{created.json()['roomId']}"

        assert (await client.get(room, headers=bearer(token(key)))).status_code == 200
        refused = [
            {"miauserid": "pat-1"},  # a spoofed identity header
            {**bearer(token(key, sub="someone-else")), "miauserid": "pat-1"},
            bearer(token(key, exp=int(time.time()) - 3600)),  # expired
            bearer(token(signing_key("key-1", label="attacker"))),  # signed by another key under the same kid
            bearer(token(key, aud="another-service")),
            bearer(token(key, iss="https://evil.test/")),
            bearer("not-a-token"),
            {"authorization": "Basic cGF0LTE6cGF0LTE="},
        ]
        for headers in refused:
            response = await client.get(room, headers=headers)
            assert response.status_code == 401, headers
            assert response.json() == {"error": "Unauthorized user"}


def test_jwt_mode_without_its_settings_stops_start_up() -> None:
    with pytest.raises(ConfigurationError, match="AUTH_JWKS_URL is required"):
        Settings.from_env({"AUTH_MODE": "jwt"})
    with pytest.raises(ConfigurationError, match="AUTH_JWT_AUDIENCE is required"):
        Settings.from_env({"AUTH_MODE": "jwt", "AUTH_JWKS_URL": "https://idp.test/jwks", "AUTH_JWT_ISSUER": ISSUER})


def test_auth_service_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "AUTH_SERVICE": "auth0-client",
            "DEFAULT_CLIENT_TYPE": "web",
            "ADDITIONAL_HEADERS_TO_PROXY": "Cookie, client-type",
        }
    )
    assert settings.identity.auth_service == AuthServiceSettings(base_url="http://auth0-client", client_type="web")
    assert settings.identity.additional_headers_to_proxy == ("cookie", "client-type")
    with pytest.raises(ConfigurationError, match="CUSTOM_ID_USERS_API_ENDPOINT"):
        Settings.from_env({"CUSTOM_ID_USERS_API_ENDPOINT": "http://user-manager/users/"})


async def test_jwt_mode_refuses_a_repeated_identity_header_too(
    fake_kaleyra: FakeKaleyraServer, jwks: FakeJwks, key: SigningKey, clock: FixedClock
) -> None:
    # The client type is forwarded to the identity services in jwt mode as well: no copy may be chosen.
    async with serve(jwt_settings(fake_kaleyra, jwks), clock) as client:
        response = await client.get(
            "/teleconsultation/0123456789abcdef01234567",
            headers=[("authorization", f"Bearer {token(key)}"), ("client-type", "a"), ("client-type", "b")],
        )

    assert response.status_code == 400
    assert response.json() == {
        "error": "Failed GET /teleconsultation: the client-type header must be sent at most once"
    }
