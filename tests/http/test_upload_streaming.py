"""The 10 MB background limit is enforced while the body streams in, not after buffering it."""

from __future__ import annotations

import asyncio
import contextlib

from application.upload_background import MAX_BACKGROUND_BYTES
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.conftest import Client

CHUNK = 64 * 1024
PART_HEAD = (
    b"--xyz\r\n"
    b'Content-Disposition: form-data; name="virtual_background"; filename="a.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n"
    b"\xff\xd8\xff\xe0"
)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def send_endless_upload(writer: asyncio.StreamWriter, sent: list[int]) -> None:
    """A chunked request that goes past the limit and then never ends."""
    writer.write(
        b"POST /settings/background-image HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"miauserid: doc-1\r\nmiausergroups: doctor\r\n"
        b"Content-Type: multipart/form-data; boundary=xyz\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(PART_HEAD)
    )
    sent.append(len(PART_HEAD))
    while sent[-1] <= MAX_BACKGROUND_BYTES + 4 * CHUNK:
        writer.write(chunk(bytes(CHUNK)))
        await writer.drain()
        sent.append(sent[-1] + CHUNK)
    await asyncio.Event().wait()  # the terminating chunk is never sent


async def test_the_answer_comes_before_the_body_ends(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", client.base_url.port)
    sent: list[int] = []
    sender = asyncio.create_task(send_endless_upload(writer, sent))
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    assert head.startswith(b"HTTP/1.1 413 ")
    assert MAX_BACKGROUND_BYTES < sent[-1] <= MAX_BACKGROUND_BYTES + 5 * CHUNK
    assert fake_kaleyra.state.background_files == []
