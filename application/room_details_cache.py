"""Room details cached per room for a moment, so that many participants polling one room cost one provider call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.dto import ProvisionedRoom, RoomDetails, RoomSpec
from application.ports import Clock, VideoProvider
from domain.privileges import Privilege


@dataclass(frozen=True, slots=True)
class _Entry:
    details: RoomDetails | None
    fetched_at: datetime  # when the provider was asked, so an entry is never older than the time to live

    def fresh_at(self, now: datetime, ttl: timedelta) -> bool:
        # A clock that went backwards must not stretch an entry's life.
        return self.fetched_at <= now < self.fetched_at + ttl


class RoomDetailsCache(VideoProvider):
    """A VideoProvider that remembers `room_details` for `ttl`; every other call goes straight through.

    * Concurrent misses for one room share a single provider call (single flight); a caller that gives up
      waiting does not cancel the call for the others.
    * Failures are not remembered: the next caller asks again.
    * `delete_room` forgets the room, including an answer still on its way, so a deleted room is never served.
      A replaced room gets a new id from the provider, so it can never be confused with the old one.
    * A zero `ttl` turns the cache off.

    Only usage details pass through here; join links always come from the store.
    """

    def __init__(self, *, provider: VideoProvider, clock: Clock, ttl: timedelta) -> None:
        if ttl < timedelta(0):
            raise ValueError("the room details cache time to live must not be negative")
        self.name = provider.name
        self._provider = provider
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[str, _Entry] = {}  # in insertion order, which is roughly expiry order
        self._flights: dict[str, asyncio.Task[RoomDetails | None]] = {}

    @property
    def cached_rooms(self) -> int:
        """How many rooms have details in memory (expired ones are dropped as new ones arrive)."""
        return len(self._entries)

    async def create_user(self, privilege: Privilege) -> str:
        return await self._provider.create_user(privilege)

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
        return await self._provider.create_room(spec)

    async def delete_room(self, room_id: str) -> None:
        self._forget(room_id)
        try:
            await self._provider.delete_room(room_id)
        finally:
            # A poll that started while the deletion was under way may have brought back the old details.
            self._forget(room_id)

    async def room_details(self, room_id: str) -> RoomDetails | None:
        if not self._ttl:
            return await self._provider.room_details(room_id)
        now = self._clock.now()
        entry = self._entries.get(room_id)
        if entry is not None and entry.fresh_at(now, self._ttl):
            return entry.details
        flight = self._flights.get(room_id)
        if flight is None:
            flight = asyncio.create_task(self._fetch(room_id, now))
            flight.add_done_callback(_retrieve_outcome)
            self._flights[room_id] = flight
        # Shielded: a cancelled caller (a client that hung up) leaves the call running for the other waiters.
        return await asyncio.shield(flight)

    async def _fetch(self, room_id: str, asked_at: datetime) -> RoomDetails | None:
        this_flight = asyncio.current_task()
        try:
            details = await self._provider.room_details(room_id)
        finally:
            current = self._flights.get(room_id) is this_flight
            if current:
                del self._flights[room_id]
        if current:  # not forgotten meanwhile by delete_room
            self._remember(room_id, _Entry(details, asked_at))
        return details

    def _remember(self, room_id: str, entry: _Entry) -> None:
        self._entries.pop(room_id, None)
        self._entries[room_id] = entry
        self._drop_expired(self._clock.now())

    def _drop_expired(self, now: datetime) -> None:
        # Oldest first, stopping at the first live entry: rooms polled once do not pile up, at little cost.
        while self._entries:
            oldest = next(iter(self._entries))
            if self._entries[oldest].fresh_at(now, self._ttl):
                return
            del self._entries[oldest]

    def _forget(self, room_id: str) -> None:
        self._entries.pop(room_id, None)
        self._flights.pop(room_id, None)


def _retrieve_outcome(flight: asyncio.Task[RoomDetails | None]) -> None:
    # If every waiter was cancelled, nobody reads the task's exception; reading it here keeps asyncio quiet.
    if not flight.cancelled():
        flight.exception()
