"""Every route has a deliberate body limit: a larger body is a CRUD-shaped 413, never a 500, never read in full."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from entrypoints.http import limits
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client
from tests.http.raw_http import connection

ROOM = "0123456789abcdef01234567"
ROUTES = [
    ("POST", "/teleconsultation", limits.TELECONSULTATION_BODY),
    ("PATCH", f"/teleconsultation/{ROOM}", limits.TELECONSULTATION_BODY),
    ("GET", f"/teleconsultation/{ROOM}", limits.NO_BODY),
    ("DELETE", f"/teleconsultation/{ROOM}", limits.NO_BODY),
    ("POST", "/credentials", limits.CREDENTIALS_BODY),
    ("PATCH", "/settings/update", limits.SETTINGS_BODY),
    ("GET", "/-/healthz", limits.NO_BODY),
    ("GET", "/-/ready", limits.NO_BODY),
    ("GET", "/-/metrics", limits.NO_BODY),
    ("GET", "/documentation/json", limits.NO_BODY),
    ("GET", "/documentation/openapi.json", limits.NO_BODY),
    ("GET", "/documentation/swagger", limits.NO_BODY),
    ("GET", "/documentation/scalar", limits.NO_BODY),
]


def padded_json(size: int) -> bytes:
    """Valid JSON of exactly `size` bytes, so that only its size can be wrong."""
    return b'{"pad": "' + b"x" * (size - 11) + b'"}'


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.json()["statusCode"] == 413
    assert set(response.json()) == {"statusCode", "error", "message"}


@pytest.mark.parametrize(("method", "path", "limit"), ROUTES)
async def test_a_body_one_byte_over_the_limit_is_413(client: Client, method: str, path: str, limit: int) -> None:
    response = await client.request(
        method, path, content=padded_json(limit + 1), headers={"content-type": "application/json"}
    )
    assert_too_large(response)


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(client: Client) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"pad": "'
        for _ in range(100):
            yield b"x" * 1024

    response = await client.post("/teleconsultation", content=chunks(), headers={"content-type": "application/json"})
    assert_too_large(response)


async def test_bodies_within_the_limits_are_served(client: Client) -> None:
    largest_roster = [{**doctor(f"doc-{n}"), "fullName": "N" * 500} for n in range(25)]
    room_id = await create(client, body(*largest_roster))
    assert len(str(body(*largest_roster))) > 12_000
    response = await client.patch(f"/teleconsultation/{room_id}", json={"duration_in_seconds": 900})
    assert response.status_code == 204
    assert (await client.request("GET", "/-/healthz", content=b"{}")).status_code == 200
    assert (await client.delete(f"/teleconsultation/{room_id}", headers={"content-length": "0"})).status_code == 204
    assert (await client.post("/teleconsultation", json=body(doctor(), patient()))).status_code == 201


async def test_a_chunked_body_on_a_bodiless_route_is_refused_at_its_limit_and_not_drained(client: Client) -> None:
    room_id = await create(client, body(doctor(), patient()))
    head = f"DELETE /teleconsultation/{room_id} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n".encode()
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"x" * 64 * 1024)
    async with connection(client) as raw:
        await raw.send(head + b"800\r\n" + b"x" * 2048 + b"\r\n")  # 2 KiB: past the 1 KiB limit
        status, answer = await raw.answer()
        sent = 0
        with contextlib.suppress(ConnectionError):
            for _ in range(30 * 16):  # the rest of 30 MiB
                await raw.send(chunk)
                sent += len(chunk)

    assert status == 413
    assert b"connection: close" in answer.lower()
    assert sent < 8 * 1024 * 1024  # refused by a closed connection, not read to the end
    assert (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})).status_code == 200


async def test_a_small_chunked_body_on_a_bodiless_route_is_read_past(client: Client) -> None:
    room_id = await create(client, body(doctor(), patient()))
    request = f"DELETE /teleconsultation/{room_id} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n"
    async with connection(client) as raw:
        await raw.send(request.encode() + b"connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        status, _ = await raw.answer()

    assert status == 204


@pytest.mark.parametrize("path", ["/teleconsultation/0123456789abcdef01234567", "/no/such/route"])
async def test_an_answer_before_the_body_is_read_closes_the_connection(client: Client, path: str) -> None:
    async with connection(client) as raw:
        await raw.send(f"DELETE {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 31457280\r\n\r\n".encode())
        status, answer = await raw.answer()

    assert status in (404, 413)
    assert b"connection: close" in answer.lower()
