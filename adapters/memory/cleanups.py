"""In-memory queue of provider rooms whose deletion must be retried."""

from __future__ import annotations

from application.ports import PendingRoomCleanups


class InMemoryPendingRoomCleanups(PendingRoomCleanups):
    def __init__(self) -> None:
        self._rooms: dict[str, None] = {}  # insertion-ordered set

    async def add(self, room_id: str) -> None:
        self._rooms[room_id] = None

    async def remove(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)

    async def pending(self, limit: int) -> list[str]:
        return list(self._rooms)[:limit]
