"""A fake Mia-Platform auth0-client: `GET /users/` answering a `_q` `$in` query on `user_id`, served by aiohttp.web.

In tests:   async with FakeAuth0Client() as fake:
                fake.state.add_user("auth0|1", name="Ada", groups=["doctor"])
                ... Auth0ClientDirectory(session, AuthServiceSettings(base_url=fake.base_url)) ...
            fake.state.requests holds what was received (headers lower-cased); fake.state.failure makes it fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.local_server import LocalServer


class Failure(enum.Enum):
    STATUS = "status"  # answer `failure_status` with an error body
    GARBAGE = "garbage"  # 200 with a body that is not JSON
    NOT_A_LIST = "not_a_list"  # 200 with a JSON object instead of an array
    HANG = "hang"  # no answer until the client gives up (or the server stops)


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased


@dataclass(slots=True)
class FakeAuth0State:
    users: list[dict[str, Any]] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)
    failure: Failure | None = None
    failure_status: int = 503
    # Like auth0-client, refuse requests whose client-type selects no configured application.
    known_client_types: frozenset[str] | None = None
    hang_seconds: float = 10.0
    # Answer every stored user whatever the query, like a service that ignores an unsupported filter.
    ignore_query: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        nickname: str | None = None,
        email: str | None = None,
        groups: list[str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store an Auth0 management-API-like user; None fields are left out of the document."""
        user: dict[str, Any] = {"user_id": user_id, **extra}
        for key, value in (("name", name), ("nickname", nickname), ("email", email)):
            if value is not None:
                user[key] = value
        if groups is not None:
            user["app_metadata"] = {"groups": groups}
        self.users.append(user)
        return user


STATE = web.AppKey("auth0_client_state", FakeAuth0State)


async def list_users(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    headers = {name.lower(): value for name, value in request.headers.items()}
    state.requests.append(ReceivedRequest(request.path, dict(request.query), headers))
    if state.known_client_types is not None and headers.get("client-type") not in state.known_client_types:
        return web.json_response({"statusCode": 401, "error": "Unauthorized"}, status=401)
    if state.failure is Failure.STATUS:
        return web.json_response({"statusCode": state.failure_status, "error": "injected"}, status=state.failure_status)
    if state.failure is Failure.GARBAGE:
        return web.Response(text="<html>maintenance</html>", content_type="application/json")
    if state.failure is Failure.NOT_A_LIST:
        return web.json_response({"users": []})
    if state.failure is Failure.HANG:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.release.wait(), state.hang_seconds)
        return web.json_response([])
    if state.ignore_query:
        return web.json_response(state.users)
    try:
        wanted = json.loads(request.query["_q"])["user_id"]["$in"]
        limit = int(request.query.get("_l", "25"))
    except (KeyError, TypeError, ValueError):
        return web.json_response({"statusCode": 400, "error": "Bad Request"}, status=400)
    return web.json_response([user for user in state.users if user.get("user_id") in wanted][:limit])


def build_app(state: FakeAuth0State) -> web.Application:
    app = web.Application()
    app[STATE] = state

    async def release(_: web.Application) -> None:
        state.release.set()

    app.on_shutdown.append(release)
    app.router.add_get("/users/", list_users, allow_head=False)
    return app


class FakeAuth0Client(LocalServer):
    """The fake on a real local socket."""

    description = "fake auth0-client"

    def __init__(self, state: FakeAuth0State | None = None) -> None:
        super().__init__()
        self.state = state if state is not None else FakeAuth0State()

    def build(self) -> web.Application:
        return build_app(self.state)

    @property
    def base_url(self) -> str:
        return self.url().rstrip("/")
