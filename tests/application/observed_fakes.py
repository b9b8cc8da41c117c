"""The in-memory fakes, observed: which injected provider faults fired, and which ids were ever issued."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import TypeVar

from adapters.memory.repository import InMemoryTeleconsultationRepository
from adapters.memory.video_provider import InMemoryVideoProvider
from application.dto import ProvisionedRoom, RoomDetails, RoomSpec
from application.ports import TeleconsultationRepository
from domain.privileges import Privilege
from domain.teleconsultation import Teleconsultation

T = TypeVar("T")


class ObservedVideoProvider(InMemoryVideoProvider):
    """Mirrors the bookkeeping of `fail_next` (each call of an operation consumes one pending failure), so a
    test knows exactly which injected faults fired; and checks that every one of them did fail the call."""

    def __init__(self) -> None:
        super().__init__()
        self.armed: Counter[str] = Counter()
        self.fired: list[str] = []
        self.calls: list[str] = []

    def fail_next(self, operation: str, times: int = 1) -> None:
        super().fail_next(operation, times)
        self.armed[operation] += times

    def take_fired(self) -> list[str]:
        fired, self.fired = self.fired, []
        return fired

    async def create_user(self, privilege: Privilege) -> str:
        return await self._observed("create_user", super().create_user(privilege))

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
        return await self._observed("create_room", super().create_room(spec))

    async def delete_room(self, room_id: str) -> None:
        await self._observed("delete_room", super().delete_room(room_id))

    async def room_details(self, room_id: str) -> RoomDetails | None:
        return await self._observed("room_details", super().room_details(room_id))

    async def _observed(self, operation: str, call: Awaitable[T]) -> T:
        self.calls.append(operation)
        injected = self.armed[operation] > 0
        if injected:
            self.armed[operation] -= 1
            self.fired.append(operation)
        result = await call  # an injected failure raises ProviderError here
        if injected:
            raise AssertionError(f"an injected {operation} failure did not fail the call")
        return result


class IssuedIdsRepository(InMemoryTeleconsultationRepository):
    """Remembers every id it handed out, so a test can look for teleconsultations it was never told about."""

    def __init__(self) -> None:
        super().__init__()
        self.issued: list[str] = []

    async def next_id(self) -> str:
        teleconsultation_id = await super().next_id()
        self.issued.append(teleconsultation_id)
        return teleconsultation_id


def issued_ids(repository: TeleconsultationRepository) -> list[str]:
    """The ids `repository` hands out from now on, for a repository already wired into a graph."""
    issued: list[str] = []
    next_id = repository.next_id

    async def recording_next_id() -> str:
        issued.append(await next_id())
        return issued[-1]

    repository.next_id = recording_next_id  # type: ignore[method-assign]
    return issued


class GatedRepository(InMemoryTeleconsultationRepository):
    """Counts the reads that reach the store; while `gate` is cleared, reads wait after reading."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def get(self, teleconsultation_id: str) -> Teleconsultation:
        self.reads += 1
        found = await super().get(teleconsultation_id)
        await self.gate.wait()
        return found

    async def get_elsewhere(self, teleconsultation_id: str) -> Teleconsultation:
        """A read by another instance: neither counted nor held at the gate."""
        return await super().get(teleconsultation_id)
