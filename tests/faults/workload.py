"""The mix of requests a fault-injection run sends: creations, changes, reads and deletions."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import httpx

from tests.builders import T0
from tests.faults.report import FaultReport

DOCTORS = ("doc-1", "doc-2", "doc-3")
PATIENTS = ("pat-1", "pat-2", "pat-3", "pat-4")
# Kind of request -> weight. Creations dominate so that there is always something to change or delete.
MIX = {
    "create": 30,
    "create incomplete": 5,
    "reschedule": 15,
    "change roster": 10,
    "read": 25,
    "delete": 15,
}

Request = tuple[str, str, dict[str, Any], Callable[[httpx.Response], None]]


class Workload:
    """Sends the requests and remembers which teleconsultations exist and who takes part in them."""

    def __init__(self, client: httpx.AsyncClient, rng: random.Random, report: FaultReport) -> None:
        self._client = client
        self._rng = rng
        self._report = report
        self.created: list[str] = []  # every id a creation answered with
        self._rosters: dict[str, list[str]] = {}  # live id -> its participants as last accepted

    async def run(self, operations: int, concurrency: int) -> None:
        remaining = iter(range(operations))
        await asyncio.gather(*(self._worker(remaining) for _ in range(concurrency)))

    async def _worker(self, remaining: Iterator[int]) -> None:
        for _ in remaining:
            await self._one()

    async def _one(self) -> None:
        kind = self._rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if not self._rosters and not kind.startswith("create"):
            kind = "create"
        method, path, options, on_success = self._request(kind)
        self._report.attempted += 1
        try:
            response = await self._client.request(method, path, **options)
        except httpx.HTTPError:
            self._report.transport_errors += 1
            return
        self._report.record(response.status_code)
        if response.is_success:
            on_success(response)

    def _request(self, kind: str) -> Request:
        if kind.startswith("create"):
            people = self._people()
            number = len(people) + (1 if kind == "create incomplete" else 0)
            body = {
                "participants": _participants(people, number),
                "start_date": self._start(),
                "duration_in_seconds": 3600,
            }
            return "POST", "/teleconsultation", {"json": body}, partial(self._created, people)
        target = self._target()
        path = f"/teleconsultation/{target}"
        if kind == "reschedule":
            body = self._rng.choice([{"start_date": self._start()}, {"duration_in_seconds": 1800}])
            return "PATCH", path, {"json": body}, _ignore
        if kind == "change roster":
            people = self._people()
            body = {"participants": _participants(people, len(people))}
            return "PATCH", path, {"json": body}, partial(self._changed, target, people)
        if kind == "read":
            reader = self._rng.choice([*self._rosters.get(target, []), "stranger"])
            return "GET", path, {"headers": {"miauserid": reader}}, _ignore
        return "DELETE", path, {}, partial(self._deleted, target)

    def _created(self, people: list[str], response: httpx.Response) -> None:
        room_id = response.json()["roomId"]
        self.created.append(room_id)
        self._rosters[room_id] = people

    def _changed(self, room_id: str, people: list[str], _: httpx.Response) -> None:
        self._rosters[room_id] = people

    def _deleted(self, room_id: str, _: httpx.Response) -> None:
        self._rosters.pop(room_id, None)

    def _people(self) -> list[str]:
        return [self._rng.choice(DOCTORS), *self._rng.sample(PATIENTS, self._rng.randint(1, 2))]

    def _start(self) -> str:
        return (T0 + timedelta(hours=self._rng.randint(0, 72))).isoformat()

    def _target(self) -> str:
        # Now and then one that may have been deleted meanwhile.
        if self.created and self._rng.random() < 0.1:
            return self._rng.choice(self.created)
        return self._rng.choice(list(self._rosters))


def _participants(people: list[str], number: int) -> dict[str, Any]:
    def entry(user_id: str) -> dict[str, Any]:
        group = "doctor" if user_id in DOCTORS else "patient"
        return {"userId": user_id, "groups": [group], "fullName": f"Name of {user_id}", "language": "it"}

    return {"number": number, "data": [entry(user_id) for user_id in people]}


def _ignore(_: httpx.Response) -> None:
    return None
