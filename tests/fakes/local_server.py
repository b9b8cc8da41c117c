"""An aiohttp.web fake served on a free loopback port, started and stopped like the real thing."""

from __future__ import annotations

from typing import Self

from aiohttp import web
from aiohttp.test_utils import TestServer


class LocalServer:
    """Subclasses say which app to serve (`build`) and how they are named in errors (`description`)."""

    description = "fake server"

    def __init__(self) -> None:
        self._server: TestServer | None = None

    def build(self) -> web.Application:
        raise NotImplementedError

    async def start(self, *, host: str = "127.0.0.1", port: int | None = None) -> Self:
        self._server = TestServer(self.build(), host=host, port=port)
        await self._server.start_server()
        return self

    @property
    def server(self) -> TestServer:
        if self._server is None:
            raise RuntimeError(f"the {self.description} is not started")
        return self._server

    def url(self, path: str = "") -> str:
        return str(self.server.make_url(path))

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.close()
