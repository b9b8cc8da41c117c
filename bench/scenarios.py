"""What the benchmark does to a running service besides raw load: set-up requests, timed creations, filling."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bench.processes import API_KEY, BenchError, Server

POLLER = "bench-patient"
_serial = itertools.count()


def roster(size: int, prefix: str) -> list[dict[str, Any]]:
    """One doctor and `size - 1` patients, with ids nobody used before."""
    people = []
    for index in range(size):
        role = "doctor" if index == 0 else "patient"
        people.append({"userId": f"{prefix}-{role}-{index}", "groups": [role], "fullName": f"Bench {role} {index}"})
    return people


def creation_body(participants: list[dict[str, Any]], start: datetime) -> dict[str, Any]:
    return {
        "participants": {"number": len(participants), "data": participants},
        "start_date": start.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "duration_in_seconds": 3600,
    }


async def _create(session: aiohttp.ClientSession, service: Server, body: dict[str, Any]) -> str:
    async with session.post(f"{service.url}/teleconsultation", json=body) as response:
        answer = await response.json(content_type=None)
        if response.status != 201:
            raise BenchError(f"POST /teleconsultation on {service.name} answered {response.status}: {answer}")
        room_id: str = answer["roomId"]
        return room_id


async def polled_teleconsultation(service: Server) -> str:
    """A complete teleconsultation that started a minute ago: its participants see their link and details."""
    participants = roster(2, f"poll-{uuid.uuid4().hex[:8]}")
    participants[1]["userId"] = POLLER
    async with aiohttp.ClientSession() as session:
        teleconsultation_id = await _create(session, service, creation_body(participants, _minutes_from_now(-1)))
        async with session.get(f"{service.url}/teleconsultation/{teleconsultation_id}", headers=poller()) as response:
            view = await response.json()
    if view.get("accessLinkURL") is None or view.get("details") is None:
        raise BenchError(f"{service.name}: the polled teleconsultation shows no link or no details")
    return teleconsultation_id


def poller() -> dict[str, str]:
    return {"miauserid": POLLER}


async def provider_room(fake: Server) -> str:
    """A room made directly on the fake Kaleyra, for the floor app to read."""
    headers = {"apikey": API_KEY}
    async with aiohttp.ClientSession(headers=headers) as session:
        users = []
        for role in ("plus", "basic"):
            async with session.post(f"{fake.url}/v2/users", json={"role": role}) as response:
                users.append((await response.json())["user_id"])
        participants = [{"user_id": user, "is_admin": index == 0} for index, user in enumerate(users)]
        body = {"participants": participants, "recording": "none", "call_type": "audio_video", "live": True}
        async with session.post(f"{fake.url}/v2/rooms", json=body) as response:
            room_id: str = (await response.json())["room_id"]
            return room_id


async def provider_stats(fake: Server) -> tuple[dict[str, int], dict[str, float]]:
    """Room id -> reads so far, and room id -> shortest time between two reads, as the fake counted them."""
    async with aiohttp.ClientSession() as session, session.get(f"{fake.url}/_fake/stats") as response:
        stats = await response.json()
        return stats["room_reads"], stats["shortest_room_read_gap"]


async def creation_latencies(service: Server, size: int, count: int, warmup: int = 3) -> list[float]:
    """Seconds taken by `count` sequential creations, each with `size` participants new to the provider."""
    timings = []
    async with aiohttp.ClientSession() as session:
        for index in range(warmup + count):
            body = creation_body(roster(size, f"new-{size}-{next(_serial)}-{uuid.uuid4().hex[:6]}"), _days_ahead())
            began = time.perf_counter()
            await _create(session, service, body)
            if index >= warmup:
                timings.append(time.perf_counter() - began)
    return timings


async def fill(service: Server, total: int, *, concurrency: int = 16, time_limit: float = 240.0) -> int:
    """Create up to `total` complete teleconsultations of two new participants each; returns how many were."""
    created = 0
    deadline = time.perf_counter() + time_limit
    counter = itertools.count()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal created
            while time.perf_counter() < deadline and (index := next(counter)) < total:
                await _create(session, service, creation_body(roster(2, f"fill-{index}"), _days_ahead()))
                created += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return created


def median_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


def _minutes_from_now(minutes: int) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def _days_ahead() -> datetime:
    return _minutes_from_now(60 * 24 * 7)
