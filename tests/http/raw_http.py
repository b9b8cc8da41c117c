"""Talking to the served app byte by byte, for what an HTTP client library will not send: chunked bodies that never
end, headers that never finish, connections that idle."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tests.http.conftest import Client


@dataclass
class RawConnection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self) -> tuple[int, bytes]:
        """The status and everything the server sent until it closed the connection (within 5 s)."""
        data = await asyncio.wait_for(self.reader.read(-1), 5.0)
        status_line = data.split(b"\r\n", 1)[0]
        return (int(status_line.split()[1]) if status_line else 0), data

    async def closed_within(self, seconds: float) -> bool:
        """True when the server ends the connection (EOF or reset) within `seconds`."""
        try:
            async with asyncio.timeout(seconds):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return True


def address(client: Client) -> tuple[str, int]:
    url = client.base_url
    assert url.host is not None
    assert url.port is not None
    return url.host, url.port


@contextlib.asynccontextmanager
async def connection(client: Client) -> AsyncIterator[RawConnection]:
    host, port = address(client)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        yield RawConnection(reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
