"""Room details cached per room for a moment, so that many participants polling one room cost one provider call,
whichever worker process or instance of the service they poll."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.dto import ProvisionedRoom, RoomDetails, RoomSpec
from application.errors import StoreUnavailable
from application.ports import Clock, SharedRoomDetails, VideoProvider
from domain.privileges import Privilege

# While another process fetches a room's details, its record is read again after these pauses, doubling.
_FIRST_PAUSE = 0.005
_LONGEST_PAUSE = 0.05


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
    * With `shared` (the store's record per room), the processes sharing the store ask the provider at most once
      per `ttl` between them. A local miss reads the shared record: details fresh there are used, and remembered
      here only until the record itself expires; otherwise this process claims the record, asks the provider and
      publishes the answer (failures are not published). A process that did not get the claim reads the record
      again, at short intervals, for at most `claim_for` (the time a provider call may take), and then asks the
      provider itself: availability first. A claimant that died is taken over once its claim (`claim_for`) ends.
      When the store fails here, the provider is asked directly and `on_store_failure` hears of it.

    Only usage details pass through here; join links always come from the store.
    """

    def __init__(
        self,
        *,
        provider: VideoProvider,
        clock: Clock,
        ttl: timedelta,
        shared: SharedRoomDetails | None = None,
        claim_for: timedelta = timedelta(seconds=10),
        on_store_failure: Callable[[], None] | None = None,
    ) -> None:
        if ttl < timedelta(0):
            raise ValueError("the room details cache time to live must not be negative")
        if claim_for <= timedelta(0):
            raise ValueError("the room details claim must last a positive time")
        self.name = provider.name
        self._provider = provider
        self._clock = clock
        self._ttl = ttl
        self._shared = shared
        self._claim_for = claim_for
        self._on_store_failure = on_store_failure
        self._owner = secrets.token_hex(8)  # this process's name on the claims it takes
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
        await self._forget_shared(room_id)
        try:
            await self._provider.delete_room(room_id)
        finally:
            # A poll that started while the deletion was under way may have brought back the old details.
            self._forget(room_id)
            await self._forget_shared(room_id)

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
            if self._shared is None:
                entry = _Entry(await self._provider.room_details(room_id), asked_at)
            else:
                entry = await self._fetch_shared(self._shared, room_id)
        finally:
            current = self._flights.get(room_id) is this_flight
            if current:
                del self._flights[room_id]
        if current:  # not forgotten meanwhile by delete_room
            self._remember(room_id, entry)
        return entry.details

    async def _fetch_shared(self, shared: SharedRoomDetails, room_id: str) -> _Entry:
        """The details through the shared record: its fresh ones, or this process's provider call under a claim,
        or (no publication came in time, or the store failed) a provider call of its own."""
        waited, pause = 0.0, _FIRST_PAUSE
        limit = self._claim_for.total_seconds()
        while True:
            now = self._clock.now()
            try:
                record = await shared.read(room_id)
                if record is not None and record.fetched_at is not None and record.fresh_at(now, self._ttl):
                    # Kept here no longer than there: the fetch's own time, not this read's, starts the period
                    # (or this clock's, when the fetch began after it was read: see fresh_at).
                    return _Entry(record.details, min(record.fetched_at, now))
                claimed = record is not None and record.claimed_by_another_at(now, self._owner)
                if not claimed and await shared.claim(
                    room_id, self._owner, now=now, until=now + self._claim_for, fresh_for=self._ttl
                ):
                    return await self._fetch_claimed(shared, room_id)
            except StoreUnavailable:
                self._store_failed()
                break
            if waited >= limit:
                break  # the claimant is slow or gone: ask the provider rather than keep the poll waiting
            await asyncio.sleep(pause)
            waited, pause = waited + pause, min(pause * 2, _LONGEST_PAUSE)
        asked_at = self._clock.now()
        return _Entry(await self._provider.room_details(room_id), asked_at)

    async def _fetch_claimed(self, shared: SharedRoomDetails, room_id: str) -> _Entry:
        # The period starts when the provider is asked, not when the claim was: a slow claim (a store that syncs
        # each write to disk) must not bring the next provider call closer to this one.
        asked_at = self._clock.now()
        try:
            details = await self._provider.room_details(room_id)
        except Exception:
            try:
                await shared.release(room_id, self._owner)
            except StoreUnavailable:
                self._store_failed()  # the claim runs out by itself
            raise
        try:
            await shared.publish(room_id, self._owner, details, fetched_at=asked_at)
        except StoreUnavailable:
            self._store_failed()  # the others ask the provider once the claim runs out
        return _Entry(details, asked_at)

    async def _forget_shared(self, room_id: str) -> None:
        if self._shared is None or not self._ttl:
            return
        try:
            await self._shared.forget(room_id)
        except StoreUnavailable:
            # The deletion goes on: a replaced room gets a new id, so the old record is never read for it.
            self._store_failed()

    def _store_failed(self) -> None:
        if self._on_store_failure is not None:
            self._on_store_failure()

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
