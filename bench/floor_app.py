"""The floor: a bare Litestar handler making the one provider call a poll needs, and nothing else.

GET /floor/{room_id} reads the room on the (fake) Kaleyra over one pooled aiohttp session and answers a small
JSON body. Whatever the service does beyond this is its own cost; the benchmark reports the service as a ratio
to this app, served by the same server with the same settings.

GET /ceiling/{room_id} answers the same body without the provider call: what the server and the framework cost
on their own, so the most that any handler served this way can reach (the service with its cache included).

    python -m bench.floor_app --port 8200 --kaleyra-url http://127.0.0.1:8100 --api-key k [--server granian]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import msgspec
from litestar import Litestar, get
from litestar.exceptions import HTTPException

from entrypoints.server import run_server

KALEYRA_URL_ENV = "FLOOR_KALEYRA_URL"
API_KEY_ENV = "FLOOR_KALEYRA_API_KEY"


class RoomStatus(msgspec.Struct):
    status: str | None = None
    recording: str | None = None
    live: bool | None = None


CEILING_ANSWER = RoomStatus(status="NOT_RUNNING", recording="none", live=True)  # what the fake's rooms say


def create_floor_app(kaleyra_url: str, api_key: str) -> Litestar:
    sessions: list[aiohttp.ClientSession] = []

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            sessions.append(session)
            yield

    @get("/floor/{room_id:str}", sync_to_thread=False)
    async def floor(room_id: str) -> RoomStatus:
        url = f"{kaleyra_url}/v2/rooms/{room_id}"
        async with sessions[0].get(url, headers={"apikey": api_key}) as response:
            body = await response.read()
        if response.status != 200:  # a floor that skipped the work would flatter it
            raise HTTPException(status_code=502, detail="provider call failed")
        return msgspec.json.decode(body, type=RoomStatus)

    @get("/ceiling/{room_id:str}", sync_to_thread=False)
    async def ceiling(room_id: str) -> RoomStatus:
        return CEILING_ANSWER

    return Litestar(route_handlers=[floor, ceiling], lifespan=[lifespan], openapi_config=None, debug=False)


def floor_app_from_env() -> Litestar:
    """A factory for servers that import their app (granian)."""
    return create_floor_app(os.environ[KALEYRA_URL_ENV], os.environ[API_KEY_ENV])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The floor app of the benchmark")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kaleyra-url", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args(argv)
    run_server(create_floor_app(args.kaleyra_url, args.api_key), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
