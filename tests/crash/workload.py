"""Creations, changes and cancellations sent to a service that may be killed at any moment, and what each
confirmed answer promises about the stored state."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.builders import T0

DOCTORS = ("doc-1", "doc-2")
PATIENTS = ("pat-1", "pat-2", "pat-3")
MIX = {"create": 40, "change roster": 20, "reschedule": 20, "cancel": 20}


@dataclass(frozen=True)
class Expected:
    """What the confirmed answers promise about one teleconsultation."""

    roster: tuple[str, ...]
    start: datetime
    cancelled: bool = False
    life: int = 0  # the life of the service in which the last confirmed write was answered


@dataclass
class Ledger:
    """Every teleconsultation a confirmed answer told of; those whose last write had no clear answer are uncertain
    (the write may or may not have been stored) and are no longer checked."""

    expected: dict[str, Expected] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)
    confirmed: int = 0
    unanswered: int = 0  # no answer at all (the service was killed), or a 5xx: the outcome is unknown
    refused: int = 0  # a 4xx: nothing was written


class Workload:
    """`concurrency` workers, never two on one teleconsultation, until `stop` is set."""

    def __init__(self, rng: random.Random, ledger: Ledger) -> None:
        self._rng = rng
        self._ledger = ledger
        self._busy: set[str] = set()

    async def run(self, base_url: str, life: int, concurrency: int, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
            await asyncio.gather(*(self._worker(client, life, stop) for _ in range(concurrency)))

    async def _worker(self, client: httpx.AsyncClient, life: int, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._one(client, life)

    async def _one(self, client: httpx.AsyncClient, life: int) -> None:
        ledger = self._ledger
        kind = self._rng.choices(list(MIX), weights=list(MIX.values()))[0]
        idle = [i for i in ledger.expected if i not in self._busy and i not in ledger.uncertain]
        live = [i for i in idle if not ledger.expected[i].cancelled]
        if kind == "create" or not live:
            await self._create(client, life)
            return
        target = self._rng.choice(live)
        self._busy.add(target)
        try:
            await self._change(client, life, kind, target)
        finally:
            self._busy.discard(target)

    async def _create(self, client: httpx.AsyncClient, life: int) -> None:
        roster, start = self._roster(), self._start()
        body = {"participants": _participants(roster), "start_date": start.isoformat(), "duration_in_seconds": 3600}
        response = await self._send(client, "POST", "/teleconsultation", body)
        if response is not None and response.status_code == 201:
            self._ledger.expected[response.json()["roomId"]] = Expected(roster, start, life=life)
            self._ledger.confirmed += 1

    async def _change(self, client: httpx.AsyncClient, life: int, kind: str, target: str) -> None:
        before = self._ledger.expected[target]
        path = f"/teleconsultation/{target}"
        if kind == "cancel":
            after, response = replace(before, cancelled=True), await self._send(client, "DELETE", path)
        elif kind == "change roster":
            roster = self._roster()
            after = replace(before, roster=roster)
            response = await self._send(client, "PATCH", path, {"participants": _participants(roster)})
        else:
            start = self._start()
            after = replace(before, start=start)
            response = await self._send(client, "PATCH", path, {"start_date": start.isoformat()})
        if response is None:
            self._ledger.uncertain.add(target)
        elif response.status_code == 204:
            self._ledger.expected[target] = replace(after, life=life)
            self._ledger.confirmed += 1

    async def _send(
        self, client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response | None:
        """The answer, or None when its outcome is unknown (no answer, or a 5xx)."""
        try:
            response = await client.request(method, path, json=body)
        except httpx.HTTPError:
            self._ledger.unanswered += 1
            return None
        if response.status_code >= 500:
            self._ledger.unanswered += 1
            return None
        if response.status_code >= 400:
            self._ledger.refused += 1
        return response

    def _roster(self) -> tuple[str, ...]:
        return (self._rng.choice(DOCTORS), *self._rng.sample(PATIENTS, self._rng.randint(1, 2)))

    def _start(self) -> datetime:
        return T0 + timedelta(hours=self._rng.randint(0, 72), minutes=self._rng.randint(0, 59))


def _participants(roster: tuple[str, ...]) -> dict[str, Any]:
    def entry(user_id: str) -> dict[str, Any]:
        group = "doctor" if user_id in DOCTORS else "patient"
        return {"userId": user_id, "groups": [group], "fullName": f"Name of {user_id}", "language": "it"}

    return {"number": len(roster), "data": [entry(user_id) for user_id in roster]}
