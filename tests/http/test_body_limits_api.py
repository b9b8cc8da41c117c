"""Every route has a deliberate body limit: a larger body is a CRUD-shaped 413, never a 500, never read in full."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from entrypoints.http import limits
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client

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
