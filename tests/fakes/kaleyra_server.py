"""A fake Kaleyra Video REST API v2 written from kaleyra-wire.md, served by aiohttp.web.

In tests:   server = await FakeKaleyraServer(api_key="k").start(); ...; await server.close()
            (or `async with FakeKaleyraServer(...) as server`)
From a shell: python -m tests.fakes.kaleyra_server --port 8099 --api-key k [--latency 0.05] [--failure-rate 0.1]
              [--no-record-requests]

`GET /_fake/stats` answers `{"room_reads": {room id: GET calls}, "shortest_room_read_gap": {room id: seconds}}`
(no apikey needed, no delay) for load tests; `GET /_fake/rooms` answers `{room id: description}` for audits.
Every request is recorded in `state.calls` / `state.requests` (only counted in `state.call_counts` with
--no-record-requests), then delayed by `latency_seconds`, checked for the `apikey` header, and possibly answered
with a fault (see FakeKaleyraState.fail_next and failure_rate).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes import kaleyra_handlers as routes
from tests.fakes.kaleyra_handlers import STATE, error
from tests.fakes.kaleyra_state import FakeKaleyraState, Fault, RecordedRequest
from tests.fakes.kaleyra_webhooks import kaleyra_body, send_kaleyra_webhook
from tests.fakes.local_server import LocalServer

__all__ = ["STATE", "FakeKaleyraServer", "FakeKaleyraState", "Fault", "build_app", "main"]

STATS_PATH = "/_fake/stats"
ROOMS_PATH = "/_fake/rooms"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ------------------------------------------------------------------ middleware: record, delay, auth, faults


@web.middleware
async def simulate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in (STATS_PATH, ROOMS_PATH):  # the fake's own: not part of the API, never recorded or delayed
        return await handler(request)
    state = request.app[STATE]
    # A multipart body must stay unread for request.post(); upload_background records the file itself.
    body = b"" if request.content_type.startswith("multipart/") else await request.read()
    headers = {name.lower(): value for name, value in request.headers.items()}
    state.record(RecordedRequest(request.method, request.path, request.raw_path, dict(request.query), headers, body))
    if state.latency_seconds > 0:
        await asyncio.sleep(state.latency_seconds)
    if request.headers.get("apikey") != state.api_key:
        return error(401, "unauthorized", "missing or invalid apikey header")
    operation = request.match_info.route.name
    fault = state.next_fault(operation) if operation else None
    if fault is None:
        return await handler(request)
    return await inject(request, state, fault, handler)


async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({"room_reads": state.room_reads(), "shortest_room_read_gap": state.shortest_room_read_gap})


async def rooms(request: web.Request) -> web.Response:
    """Every room the fake holds, by id, with its description: what an audit compares the store with (Kaleyra
    itself has no such call)."""
    state = request.app[STATE]
    return web.json_response({room_id: room.description for room_id, room in state.rooms.items()})


async def inject(request: web.Request, state: FakeKaleyraState, fault: Fault, handler: Handler) -> web.StreamResponse:
    if fault is Fault.LOST:
        await handler(request)
    if fault in (Fault.RESET, Fault.LOST):
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPServiceUnavailable  # never delivered: the connection is gone
    if fault is Fault.HANG:
        await state.hang()
        return error(504, "timeout", "the fake hung")
    if fault is Fault.GARBAGE:
        return web.Response(status=200, text="<html>maintenance</html>", content_type="application/json")
    if fault is Fault.REDIRECT:
        raise web.HTTPTemporaryRedirect("/v2/redirected")
    if fault is Fault.RATE_LIMITED:
        response = error(429, "too_many_requests", "slow down")
        response.headers["Retry-After"] = state.retry_after
        return response
    return error(int(fault.value), "injected", "injected failure")


# ------------------------------------------------------------------ application and runners


def build_app(state: FakeKaleyraState) -> web.Application:
    app = web.Application(middlewares=[simulate], client_max_size=routes.MAX_BACKGROUND_BYTES + 1024 * 1024)
    app[STATE] = state

    async def release(_: web.Application) -> None:
        state.release_hangs()

    app.on_shutdown.append(release)
    app.router.add_get(STATS_PATH, stats, allow_head=False)
    app.router.add_get(ROOMS_PATH, rooms, allow_head=False)
    app.router.add_post("/v2/users", routes.create_user, name="create_user")
    app.router.add_post("/v2/rooms", routes.create_room, name="create_room")
    app.router.add_get("/v2/rooms/{room_id}", routes.get_room, name="get_room", allow_head=False)
    app.router.add_delete("/v2/rooms/{room_id}", routes.delete_room, name="delete_room")
    app.router.add_get("/v2/uploads", routes.list_uploads, name="list_uploads", allow_head=False)
    app.router.add_delete("/v2/uploads/{key}", routes.delete_upload, name="delete_upload")
    app.router.add_post("/v2/sdk/credentials", routes.sdk_credentials, name="sdk_credentials")
    app.router.add_post("/v2/company/backgrounds", routes.upload_background, name="upload_background")
    app.router.add_patch("/v2/company", routes.update_company, name="update_company")
    app.router.add_get(
        "/v2/rooms/{room_id}/sessions/{session_id}/transcription",
        routes.transcription,
        name="transcription",
        allow_head=False,
    )
    return app


class FakeKaleyraServer(LocalServer):
    """The fake on a real socket; options are FakeKaleyraState fields (api_key, latency_seconds, ...)."""

    description = "fake Kaleyra server"

    def __init__(self, state: FakeKaleyraState | None = None, **options: Any) -> None:
        super().__init__()
        self.state = state if state is not None else FakeKaleyraState(**options)

    def build(self) -> web.Application:
        return build_app(self.state)

    @property
    def base_url(self) -> str:
        return self.url().rstrip("/")

    async def send_webhook(self, url: str, event: str, room_id: str, **fields: Any) -> tuple[int, str]:
        """Kaleyra calling the service's webhook: the event about the room, signed with the company API key."""
        return await send_kaleyra_webhook(url, kaleyra_body(event, room_id, **fields), api_key=self.state.api_key)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Kaleyra Video REST API v2")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before every answer")
    parser.add_argument("--failure-rate", type=float, default=0.0, help="share of requests that fail, 0..1")
    parser.add_argument("--seed", type=int, default=0, help="seed of the failure choices")
    parser.add_argument("--hang-seconds", type=float, default=30.0, help="how long a hanging answer waits")
    parser.add_argument(
        "--no-record-requests", action="store_true", help="only count calls (for load tests: memory stays flat)"
    )
    args = parser.parse_args(argv)
    state = FakeKaleyraState(
        api_key=args.api_key,
        latency_seconds=args.latency,
        failure_rate=args.failure_rate,
        seed=args.seed,
        hang_seconds=args.hang_seconds,
        record_requests=not args.no_record_requests,
    )
    web.run_app(build_app(state), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
