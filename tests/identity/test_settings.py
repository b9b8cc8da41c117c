"""The identity settings refuse values that could only fail later, with a message naming the culprit."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.identity import AuthServiceSettings, CustomIdSettings, JwtSettings
from tests.identity.conftest import AUDIENCE, ISSUER


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_url": "auth0-client"}, "absolute http"),
        ({"base_url": "ftp://auth0-client"}, "absolute http"),
        ({"users_path": "users/"}, "must start with '/'"),
        ({"id_field": ""}, "id_field"),
        ({"name_fields": ()}, "name_fields"),
        ({"groups_fields": ("app_metadata..groups",)}, "groups_fields"),
        ({"client_type": " "}, "client_type"),
        ({"total_timeout_seconds": 0}, "timeouts"),
        ({"max_ids_per_request": 0}, "max_ids_per_request"),
        ({"max_ids_per_request": 101}, "max_ids_per_request"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
    ],
)
def test_invalid_auth_service_settings_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AuthServiceSettings(**{"base_url": "http://auth0-client", **options})


def test_auth_service_defaults_follow_the_spec() -> None:
    settings = AuthServiceSettings(base_url="http://auth0-client/")

    assert settings.users_url == "http://auth0-client/users/"
    assert (settings.id_field, settings.name_fields, settings.groups_fields, settings.client_type) == (
        "user_id",
        ("name", "nickname", "email"),
        ("app_metadata.groups", "groups"),
        None,
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint": "/users/"}, "absolute http"),
        ({"source": ""}, "source"),
        ({"target": "a..b"}, "target"),
        ({"connect_timeout_seconds": -1}, "timeouts"),
        ({"max_ids_per_request": 0}, "max_ids_per_request"),
    ],
)
def test_invalid_custom_id_settings_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CustomIdSettings(**{"endpoint": "http://crud-service/users/", **options})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jwks_url": "jwks.json"}, "JWKS URL"),
        ({"issuer": " "}, "issuer"),
        ({"audience": ""}, "audience"),
        ({"algorithms": ()}, "at least one"),
        ({"algorithms": ("RS256", "HS256")}, "HS256"),
        ({"algorithms": ("none",)}, "none"),
        ({"user_id_claim": ""}, "user_id_claim"),
        ({"groups_claim": "a..b"}, "groups_claim"),
        ({"leeway_seconds": -1}, "leeway_seconds"),
        ({"jwks_cache_ttl_seconds": 0}, "jwks_cache_ttl_seconds"),
        ({"min_refresh_interval_seconds": -1}, "min_refresh_interval_seconds"),
        ({"jwks_max_stale_seconds": -1}, "jwks_max_stale_seconds"),
        ({"max_token_length": 0}, "max_token_length"),
    ],
)
def test_invalid_jwt_settings_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JwtSettings(**{"jwks_url": "https://idp.example/jwks.json", "issuer": ISSUER, "audience": AUDIENCE, **options})


def test_jwt_defaults_follow_the_brief() -> None:
    settings = JwtSettings(jwks_url="https://idp.example/jwks.json", issuer=ISSUER, audience=AUDIENCE)

    assert settings.algorithms == ("RS256", "ES256")
    assert (settings.user_id_claim, settings.groups_claim) == ("sub", "groups")
    assert (settings.leeway_seconds, settings.jwks_cache_ttl_seconds, settings.min_refresh_interval_seconds) == (
        30.0,
        300.0,
        30.0,
    )
