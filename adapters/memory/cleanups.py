"""In-memory queue of provider rooms whose deletion must be retried, with the same leases as the store's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports import PendingRoomCleanups


@dataclass(frozen=True, slots=True)
class _Lease:
    owner: str
    until: datetime


class InMemoryPendingRoomCleanups(PendingRoomCleanups):
    def __init__(self) -> None:
        self._rooms: dict[str, _Lease | None] = {}  # insertion-ordered: oldest first

    async def add(self, room_id: str) -> None:
        self._rooms.setdefault(room_id, None)

    async def remove(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)

    async def pending(self, limit: int) -> list[str]:
        return list(self._rooms)[: max(limit, 0)]

    async def count(self) -> int:
        return len(self._rooms)

    async def claim(self, room_id: str, owner: str, *, now: datetime, until: datetime) -> bool:
        if room_id not in self._rooms:
            return False
        lease = self._rooms[room_id]
        if lease is not None and lease.owner != owner and lease.until > now:
            return False
        self._rooms[room_id] = _Lease(owner, until)
        return True

    async def release(self, room_id: str, owner: str) -> None:
        lease = self._rooms.get(room_id)
        if lease is not None and lease.owner == owner:
            self._rooms[room_id] = None
