"""In-memory room intents, with the same leases and outcomes as the store's."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from application.dto import RoomIntent
from application.ports import RoomIntents


class InMemoryRoomIntents(RoomIntents):
    """Check-and-set steps never await in between, so each is atomic, as one conditional update is in MongoDB."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[RoomIntent, str | None]] = {}  # insertion-ordered: oldest first; (intent, owner)
        self._unknown: dict[str, tuple[RoomIntent, datetime]] = {}  # intent id -> (intent, expires at)

    async def open(self, intent_id: str, teleconsultation_id: str, *, now: datetime, lease_until: datetime) -> None:
        self._open[intent_id] = (RoomIntent(intent_id, teleconsultation_id, now, lease_until), None)

    async def record_room(self, intent_id: str, room_id: str) -> None:
        if intent_id in self._open:
            intent, owner = self._open[intent_id]
            self._open[intent_id] = (replace(intent, room_id=room_id), owner)

    async def close(self, intent_id: str) -> bool:
        return self._open.pop(intent_id, None) is not None

    async def close_unknown(self, intent_id: str, *, now: datetime, expires_at: datetime) -> bool:
        entry = self._open.pop(intent_id, None)
        if entry is None:
            return False
        # Expired records go, as MongoDB's TTL index drops them.
        self._unknown = {key: kept for key, kept in self._unknown.items() if kept[1] > now}
        self._unknown[intent_id] = (entry[0], expires_at)
        return True

    async def overdue(self, now: datetime, limit: int) -> list[RoomIntent]:
        due = [intent for intent, _ in self._open.values() if intent.lease_until <= now]
        return sorted(due, key=lambda intent: intent.opened_at)[: max(limit, 0)]

    async def claim(self, intent_id: str, owner: str, *, now: datetime, until: datetime) -> bool:
        entry = self._open.get(intent_id)
        if entry is None:
            return False
        intent, holder = entry
        if intent.lease_until > now and holder != owner:
            return False
        self._open[intent_id] = (replace(intent, lease_until=until), owner)
        return True

    async def unknown(self, now: datetime, limit: int) -> list[RoomIntent]:
        kept = [intent for intent, expires_at in self._unknown.values() if expires_at > now]
        return sorted(kept, key=lambda intent: intent.opened_at)[: max(limit, 0)]
