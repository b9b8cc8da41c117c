"""Auth0ClientDirectory against a fake auth0-client: queries, forwarded headers, field fallbacks, failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from adapters.identity import Auth0ClientDirectory, AuthServiceSettings
from application.dto import CallContext, DirectoryUser
from application.errors import IdentityServiceError
from tests.fakes.auth0_client import Failure, FakeAuth0Client

MakeDirectory = Callable[..., Auth0ClientDirectory]
COOKIE = "sid=secret-session-cookie"
PLATFORM_HEADERS = (
    ("x-request-id", "req-42"),
    ("x-forwarded-for", "10.0.0.7"),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-host", "clinic.example"),
    ("cookie", COOKIE),
)


def asked_ids(query: dict[str, str]) -> list[str]:
    parsed: dict[str, Any] = json.loads(query["_q"])
    assert list(parsed) == ["user_id"]
    ids: list[str] = parsed["user_id"]["$in"]
    return ids


async def test_known_users_come_back_with_name_and_groups_unknown_ones_are_absent(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client
) -> None:
    fake_auth0.state.add_user("auth0|ada", name="Ada Lovelace", groups=["doctor", "admin"])
    fake_auth0.state.add_user("auth0|bob", name="Bob", groups=["patient"])

    users = await make_directory().users(["auth0|ada", "auth0|bob", "auth0|ghost"], CallContext())

    assert users == {
        "auth0|ada": DirectoryUser("auth0|ada", "Ada Lovelace", ("doctor", "admin")),
        "auth0|bob": DirectoryUser("auth0|bob", "Bob", ("patient",)),
    }
    [request] = fake_auth0.state.requests
    assert request.path == "/users/"
    assert asked_ids(request.query) == ["auth0|ada", "auth0|bob", "auth0|ghost"]
    assert request.query["_l"] == "3"


async def test_no_ids_means_no_request(make_directory: MakeDirectory, fake_auth0: FakeAuth0Client) -> None:
    assert await make_directory().users([], CallContext()) == {}
    assert fake_auth0.state.requests == []


async def test_ids_with_query_sensitive_characters_travel_intact(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client
) -> None:
    odd = 'email|a+b c&d=e"f@x.com'
    fake_auth0.state.add_user(odd, name="Odd")

    users = await make_directory().users([odd], CallContext())

    assert list(users) == [odd]
    assert asked_ids(fake_auth0.state.requests[0].query) == [odd]


async def test_platform_headers_and_the_requests_own_client_type_are_forwarded(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client
) -> None:
    fake_auth0.state.add_user("auth0|ada", name="Ada")
    context = CallContext((*PLATFORM_HEADERS, ("client-type", "mobile-app")))

    await make_directory(client_type="default-app").users(["auth0|ada"], context)

    headers = fake_auth0.state.requests[0].headers
    for name, value in PLATFORM_HEADERS:
        assert headers[name] == value
    assert headers["client-type"] == "mobile-app"
    assert headers["accept"] == "application/json"


@pytest.mark.parametrize("forwarded", [(), (("client-type", ""),), (("Client-Type", "  "),)])
async def test_the_default_client_type_is_used_only_when_the_request_has_none(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client, forwarded: tuple[tuple[str, str], ...]
) -> None:
    await make_directory(client_type="default-app").users(["auth0|ada"], CallContext(forwarded))

    assert fake_auth0.state.requests[0].headers["client-type"] == "default-app"


async def test_without_any_client_type_none_is_sent(make_directory: MakeDirectory, fake_auth0: FakeAuth0Client) -> None:
    await make_directory().users(["auth0|ada"], CallContext(PLATFORM_HEADERS))

    assert "client-type" not in fake_auth0.state.requests[0].headers


async def test_connection_headers_of_the_incoming_request_are_not_replayed(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client
) -> None:
    context = CallContext(
        (
            ("host", "evil.example"),
            ("content-length", "999"),
            ("x-evil", "a\r\nx-injected: 1"),
            ("x-request-id", "req-1"),
        )
    )

    await make_directory().users(["auth0|ada"], context)

    headers = fake_auth0.state.requests[0].headers
    assert headers["host"] != "evil.example"
    assert "content-length" not in headers
    assert "x-evil" not in headers
    assert "x-injected" not in headers
    assert headers["x-request-id"] == "req-1"


async def test_long_lists_are_asked_in_chunks_without_repeats(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client
) -> None:
    ids = [f"auth0|u{number}" for number in range(7)]
    for user_id in ids:
        fake_auth0.state.add_user(user_id, name=user_id.upper())

    users = await make_directory(max_ids_per_request=3).users([*ids, ids[0], ids[4]], CallContext())

    assert sorted(users) == sorted(ids)
    chunks = [asked_ids(request.query) for request in fake_auth0.state.requests]
    assert chunks == [ids[0:3], ids[3:6], ids[6:7]]
    assert [request.query["_l"] for request in fake_auth0.state.requests] == ["3", "3", "1"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"nickname": "ada", "email": "ada@x.org", "groups": ["nurse"]}, DirectoryUser("u", "ada", ("nurse",))),
        (
            {"name": " ", "email": "ada@x.org", "groups": "doctor, nurse,,"},
            DirectoryUser("u", "ada@x.org", ("doctor", "nurse")),
        ),
        ({"app_metadata": {"groups": ["doctor"]}, "groups": ["ignored"]}, DirectoryUser("u", None, ("doctor",))),
        (
            {"app_metadata": {"roles": ["x"]}, "name": 7, "groups": [1, "patient", None]},
            DirectoryUser("u", None, ("patient",)),
        ),
        ({}, DirectoryUser("u", None, ())),
    ],
)
async def test_names_and_groups_fall_back_along_the_configured_paths(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client, document: dict[str, Any], expected: DirectoryUser
) -> None:
    fake_auth0.state.users.append({"user_id": "u", **document})

    assert await make_directory().users(["u"], CallContext()) == {"u": expected}


async def test_field_paths_are_configurable(make_directory: MakeDirectory, fake_auth0: FakeAuth0Client) -> None:
    fake_auth0.state.add_user("auth0|ada", user_metadata={"fullName": "Ada L."}, roles={"list": ["plus"]})
    directory = make_directory(name_fields=("user_metadata.fullName",), groups_fields=("roles.list",))

    assert await directory.users(["auth0|ada"], CallContext()) == {
        "auth0|ada": DirectoryUser("auth0|ada", "Ada L.", ("plus",))
    }


async def test_users_that_were_not_asked_for_are_ignored(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client
) -> None:
    fake_auth0.state.ignore_query = True
    fake_auth0.state.add_user("auth0|ada", name="Ada")
    fake_auth0.state.add_user("auth0|eve", name="Eve")
    fake_auth0.state.users.extend([{"name": "no id"}, {"user_id": 42}])

    assert list(await make_directory().users(["auth0|ada"], CallContext())) == ["auth0|ada"]


@pytest.mark.parametrize(
    ("failure", "detail"),
    [
        (Failure.STATUS, "answered status 503"),
        (Failure.GARBAGE, "not JSON"),
        (Failure.NOT_A_LIST, "other than a JSON array"),
        (Failure.HANG, "timed out"),
    ],
)
async def test_failures_become_identity_service_errors_without_secrets(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client, failure: Failure, detail: str
) -> None:
    fake_auth0.state.failure = failure
    context = CallContext((("cookie", COOKIE),))

    with pytest.raises(IdentityServiceError, match=detail) as raised:
        await make_directory(total_timeout_seconds=0.2).users(["auth0|ada"], context)

    assert raised.value.service == "auth service"
    assert "auth0|ada" not in str(raised.value)
    assert COOKIE not in str(raised.value)
    assert raised.value.__cause__ is None


async def test_a_refused_client_type_is_an_identity_service_error(
    make_directory: MakeDirectory, fake_auth0: FakeAuth0Client
) -> None:
    fake_auth0.state.known_client_types = frozenset({"backoffice"})

    with pytest.raises(IdentityServiceError, match="auth service answered status 401"):
        await make_directory(client_type="default-app").users(["auth0|ada"], CallContext())


async def test_an_oversized_answer_is_refused(make_directory: MakeDirectory, fake_auth0: FakeAuth0Client) -> None:
    fake_auth0.state.add_user("auth0|ada", name="A" * 5000)

    with pytest.raises(IdentityServiceError, match="too large"):
        await make_directory(max_response_bytes=1000).users(["auth0|ada"], CallContext())


async def test_an_unreachable_service_is_an_identity_service_error(http_session: aiohttp.ClientSession) -> None:
    async with FakeAuth0Client() as fake:
        base_url = fake.base_url  # the port is free again once the fake stops
    directory = Auth0ClientDirectory(http_session, AuthServiceSettings(base_url=base_url, total_timeout_seconds=0.5))

    with pytest.raises(IdentityServiceError, match="auth service unreachable"):
        await directory.users(["auth0|ada"], CallContext())
