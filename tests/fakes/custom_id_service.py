"""A fake CRUD-like users collection (user-manager-service, crud-service) serving `GET /users/`.

It understands `_q` queries made of `{"<field>": {"$in": [...]}}` or `{"<field>": <value>}` conditions (dotted
fields reach into sub-documents) and the `_l` limit, which is what the custom-id resolver sends.

In tests:   async with FakeCustomIdService() as fake:
                fake.state.documents.append({"_id": "u1", "authUserId": "auth0|1"})
                ... CustomIdSettings(endpoint=fake.users_url) ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.local_server import LocalServer

MISSING = object()


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased


@dataclass(slots=True)
class FakeCustomIdState:
    documents: list[dict[str, Any]] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)
    failure_status: int | None = None  # answer every request with this status
    garbage: bool = False  # answer 200 with a body that is not JSON


STATE = web.AppKey("custom_id_state", FakeCustomIdState)


def field_value(document: Any, path: str) -> Any:
    for segment in path.split("."):
        if not isinstance(document, dict) or segment not in document:
            return MISSING
        document = document[segment]
    return document


def matches(document: dict[str, Any], query: dict[str, Any]) -> bool:
    for path, condition in query.items():
        value = field_value(document, path)
        if isinstance(condition, dict) and "$in" in condition:
            if value is MISSING or value not in condition["$in"]:
                return False
        elif value != condition:
            return False
    return True


async def list_users(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    headers = {name.lower(): value for name, value in request.headers.items()}
    state.requests.append(ReceivedRequest(dict(request.query), headers))
    if state.failure_status is not None:
        return web.json_response({"error": "injected", "message": "injected failure"}, status=state.failure_status)
    if state.garbage:
        return web.Response(text="{not json", content_type="application/json")
    try:
        query = json.loads(request.query.get("_q", "{}"))
        limit = int(request.query.get("_l", "25"))
        if not isinstance(query, dict):
            raise TypeError("_q must be an object")
    except (TypeError, ValueError):
        return web.json_response({"error": "Bad Request", "message": "invalid _q"}, status=400)
    return web.json_response([document for document in state.documents if matches(document, query)][:limit])


def build_app(state: FakeCustomIdState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_get("/users/", list_users, allow_head=False)
    return app


class FakeCustomIdService(LocalServer):
    """The fake on a real local socket."""

    description = "fake custom id service"

    def __init__(self, state: FakeCustomIdState | None = None) -> None:
        super().__init__()
        self.state = state if state is not None else FakeCustomIdState()

    def build(self) -> web.Application:
        return build_app(self.state)

    @property
    def users_url(self) -> str:
        return self.url("/users/")
