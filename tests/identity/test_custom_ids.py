"""CrudCustomIdResolver against a fake CRUD users collection: resolution, headers, chunking, failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from adapters.identity import CrudCustomIdResolver
from application.dto import CallContext
from application.errors import IdentityServiceError
from tests.fakes.custom_id_service import FakeCustomIdService

MakeResolver = Callable[..., CrudCustomIdResolver]


def asked(query: dict[str, str]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(query["_q"])
    return parsed


async def test_custom_ids_resolve_to_identity_provider_ids(
    make_resolver: MakeResolver, fake_custom_ids: FakeCustomIdService
) -> None:
    fake_custom_ids.state.documents.extend(
        [
            {"_id": "64b000000000000000000001", "authUserId": "auth0|ada"},
            {"_id": "64b000000000000000000002", "authUserId": "auth0|bob"},
            {"_id": "64b000000000000000000003"},  # not linked to the identity provider yet
            {"_id": "64b000000000000000000004", "authUserId": "auth0|not-asked"},
        ]
    )
    ids = ["64b000000000000000000001", "64b000000000000000000002", "64b000000000000000000003", "missing"]

    resolved = await make_resolver().resolve(ids, CallContext())

    assert resolved == {"64b000000000000000000001": "auth0|ada", "64b000000000000000000002": "auth0|bob"}
    [request] = fake_custom_ids.state.requests
    assert asked(request.query) == {"_id": {"$in": ids}}
    assert request.query["_l"] == "4"


async def test_source_and_target_may_be_other_and_dotted_fields(
    make_resolver: MakeResolver, fake_custom_ids: FakeCustomIdService
) -> None:
    fake_custom_ids.state.documents.extend(
        [
            {"email": "a+b@x.org", "identity": {"sub": "auth0|ada"}},
            {"email": "bob@x.org", "identity": {"sub": 17}},
            {"email": "eve@x.org", "identity": {"sub": ["not", "an", "id"]}},
        ]
    )
    resolver = make_resolver(source="email", target="identity.sub")

    resolved = await resolver.resolve(["a+b@x.org", "bob@x.org", "eve@x.org"], CallContext())

    assert resolved == {"a+b@x.org": "auth0|ada", "bob@x.org": "17"}


async def test_no_ids_means_no_request(make_resolver: MakeResolver, fake_custom_ids: FakeCustomIdService) -> None:
    assert await make_resolver().resolve([], CallContext()) == {}
    assert fake_custom_ids.state.requests == []


async def test_the_callers_headers_are_forwarded(
    make_resolver: MakeResolver, fake_custom_ids: FakeCustomIdService
) -> None:
    context = CallContext((("x-request-id", "req-9"), ("cookie", "sid=abc"), ("client-type", "mobile-app")))

    await make_resolver().resolve(["u1"], context)

    headers = fake_custom_ids.state.requests[0].headers
    assert (headers["x-request-id"], headers["cookie"], headers["client-type"]) == ("req-9", "sid=abc", "mobile-app")


async def test_long_lists_are_asked_in_chunks(
    make_resolver: MakeResolver, fake_custom_ids: FakeCustomIdService
) -> None:
    ids = [f"id-{number}" for number in range(5)]
    fake_custom_ids.state.documents.extend({"_id": custom, "authUserId": f"auth0|{custom}"} for custom in ids)

    resolved = await make_resolver(max_ids_per_request=2).resolve(ids, CallContext())

    assert resolved == {custom: f"auth0|{custom}" for custom in ids}
    assert [asked(request.query)["_id"]["$in"] for request in fake_custom_ids.state.requests] == [
        ids[0:2],
        ids[2:4],
        ids[4:5],
    ]


@pytest.mark.parametrize(("status", "garbage"), [(500, False), (404, False), (None, True)])
async def test_failures_become_identity_service_errors(
    make_resolver: MakeResolver, fake_custom_ids: FakeCustomIdService, status: int | None, garbage: bool
) -> None:
    fake_custom_ids.state.failure_status = status
    fake_custom_ids.state.garbage = garbage

    with pytest.raises(IdentityServiceError) as raised:
        await make_resolver().resolve(["secret-custom-id"], CallContext())

    assert raised.value.service == "custom id service"
    assert "secret-custom-id" not in str(raised.value)
