"""The HTTP server's own limits, against the app served as it ships (entrypoints/server.py), with small settings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.memory.clock import FixedClock
from entrypoints.settings import HttpServerSettings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.conftest import Client, kaleyra_settings, serve
from tests.http.raw_http import RawConnection, connection

LIMITS = HttpServerSettings(
    max_header_bytes=8 * 1024,
    max_headers=20,
    header_timeout_seconds=0.5,
    body_timeout_seconds=0.5,
    keep_alive_timeout_seconds=0.3,
    max_connections=60,
)
PROBE = b"GET /-/healthz HTTP/1.1\r\nhost: x\r\n"


@pytest.fixture
async def limited(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> AsyncIterator[Client]:
    async with serve(replace(kaleyra_settings(fake_kaleyra), http_server=LIMITS), clock) as client:
        yield client


def error_of(answer: bytes) -> dict[str, object]:
    return dict(json.loads(answer.split(b"\r\n\r\n", 1)[1]))


def resident_mib() -> float:
    status = Path("/proc/self/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024


async def test_a_head_over_the_size_limit_is_431(limited: Client) -> None:
    async with connection(limited) as raw:
        await raw.send(PROBE + b"x-big: " + b"a" * (9 * 1024) + b"\r\n\r\n")
        status, answer = await raw.answer()

    assert status == 431
    assert error_of(answer) == {
        "statusCode": 431,
        "error": "Request Header Fields Too Large",
        "message": "the request line and headers must not exceed 8192 bytes",
    }


async def test_too_many_headers_are_431_and_a_head_within_the_limits_is_served(limited: Client) -> None:
    many = b"".join(b"x-h%d: v\r\n" % n for n in range(20))
    async with connection(limited) as raw:
        await raw.send(PROBE + many + b"\r\n")
        status, answer = await raw.answer()
    within = await limited.get("/-/healthz", headers={"x-big": "a" * (7 * 1024), **{f"x-h{n}": "v" for n in range(12)}})

    assert status == 431
    assert error_of(answer)["message"] == "a request must not have more than 20 headers"
    assert within.status_code == 200


async def test_forty_connections_with_huge_unfinished_headers_are_cut_off_without_memory_growth(
    limited: Client,
) -> None:
    chunk = b"a" * (64 * 1024)

    async def attack() -> int:
        sent = 0
        async with connection(limited) as raw:
            with contextlib.suppress(ConnectionError):
                await raw.send(PROBE + b"x-big: ")
                while sent < 8 * 1024 * 1024:
                    await raw.send(chunk)
                    sent += len(chunk)
            assert await raw.closed_within(5)
        return sent

    before = resident_mib()
    sent = await asyncio.gather(*(attack() for _ in range(40)))
    grown = resident_mib() - before

    assert max(sent) < 8 * 1024 * 1024  # every connection was cut off before its 8 MiB were in
    assert grown < 64, f"resident memory grew by {grown:.0f} MiB"
    assert (await limited.get("/-/healthz")).status_code == 200


async def test_a_slow_loris_head_is_timed_out(limited: Client) -> None:
    async with connection(limited) as raw:
        started = time.monotonic()
        await raw.send(PROBE)
        with contextlib.suppress(ConnectionError):
            for _ in range(30):  # a byte every 0.1 s: never idle, never done
                await raw.send(b"x")
                await asyncio.sleep(0.1)
                if raw.reader.at_eof():
                    break
        assert await raw.closed_within(2)

    assert time.monotonic() - started < 2.5


async def test_an_unfinished_head_gets_408(limited: Client) -> None:
    async with connection(limited) as raw:
        await raw.send(PROBE + b"x-half: ")
        status, answer = await raw.answer()

    assert status == 408
    assert error_of(answer)["message"] == "the request headers did not arrive within 0.5 seconds"


async def test_a_connection_that_never_speaks_is_closed(limited: Client) -> None:
    async with connection(limited) as raw:
        assert await raw.closed_within(2)


async def test_an_idle_keep_alive_connection_is_closed(limited: Client) -> None:
    async with connection(limited) as raw:
        await raw.send(PROBE + b"\r\n")
        head = await asyncio.wait_for(raw.reader.readuntil(b"\r\n\r\n"), 2)
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        await raw.reader.readexactly(length)
        started = time.monotonic()
        assert await raw.closed_within(2)

    assert head.startswith(b"HTTP/1.1 200")
    assert 0.2 < time.monotonic() - started < 1.5


async def test_a_body_that_stops_arriving_gets_408(limited: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    async with connection(limited) as raw:
        await raw.send(
            b"POST /teleconsultation HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 1000\r\n\r\n" + b'{"participants": '
        )
        status, answer = await raw.answer()

    assert status == 408
    assert error_of(answer)["message"] == "the request body stopped arriving for 0.5 seconds"
    assert fake_kaleyra.state.rooms == {}


async def test_a_slow_but_steady_body_is_read(limited: Client) -> None:
    body = json.dumps({"expiresIn": 3600}).encode()
    async with connection(limited) as raw:
        await raw.send(
            b"POST /credentials HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n" % len(body)
        )
        for byte in body:  # 1.4 s in all, never 0.5 s without a byte
            await raw.send(bytes([byte]))
            await asyncio.sleep(0.08)
        status, _ = await raw.answer()

    assert status == 401  # read to its end and answered: this service is in standalone mode


async def test_connections_beyond_the_bound_are_503_and_closed(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    limits = replace(LIMITS, max_connections=5, header_timeout_seconds=5)
    async with serve(replace(kaleyra_settings(fake_kaleyra), http_server=limits), clock) as client:
        async with contextlib.AsyncExitStack() as stack:
            held: list[RawConnection] = [await stack.enter_async_context(connection(client)) for _ in range(5)]
            await held[0].send(PROBE + b"\r\n")
            await asyncio.wait_for(held[0].reader.readuntil(b"\r\n\r\n"), 2)
            async with connection(client) as extra:
                status, answer = await extra.answer()
        after = await client.get("/-/healthz")

    assert status == 503
    assert b"retry-after: 1" in answer
    assert error_of(answer)["message"] == "the service has too many open connections, retry later"
    assert after.status_code == 200


async def test_an_unparsable_url_is_still_a_plain_400(limited: Client) -> None:
    async with connection(limited) as raw:
        await raw.send(b"GET http://a:99999/ HTTP/1.1\r\nhost: x\r\n\r\n")
        status, _ = await raw.answer()

    assert status == 400
    assert (await limited.get("/-/healthz")).status_code == 200
