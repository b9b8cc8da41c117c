"""Teleconsultations cached per instance for a moment, so that a poll costs no store read when nothing changed.

Why a cached teleconsultation is safe to show: links are shown only inside the immutable period, and inside it
every change but a cancellation is refused. So a teleconsultation another instance changed can be stale in two
ways only: before the window (its link is null anyway; only the roster could differ), and after a cancellation.
Both last at most the time to live; this instance's own writes are seen at once, and where the store tells of
every instance's writes (TeleconsultationChanges, followed by the service), others' as soon as it tells.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.events import Event
from application.ports import Clock, TeleconsultationRepository
from domain.teleconsultation import Teleconsultation


@dataclass(frozen=True, slots=True)
class _Entry:
    teleconsultation: Teleconsultation  # private to the cache: only copies of it leave
    read_at: datetime  # when the store was asked, so an entry is never older than the time to live

    def fresh_at(self, now: datetime, ttl: timedelta) -> bool:
        # A clock that went backwards must not stretch an entry's life.
        return self.read_at <= now < self.read_at + ttl


class CachedTeleconsultations(TeleconsultationRepository):
    """A TeleconsultationRepository that remembers what `get` read for `ttl`, for at most `max_entries` ids.

    * Copies: the aggregate is mutable (a use case changes what `get` returned, then saves it), so the cache
      keeps a copy of its own and every `get` returns a fresh one. A shallow copy (`dataclasses.replace`) is a
      private copy: the aggregate's fields are immutable values (strings, tuples of frozen participants, a
      frozen schedule), and a change rebinds a field of one copy without reaching another.
    * Concurrent misses for one id share a single store read (single flight): when an entry expires under many
      pollers, the store is asked once, not once per poller, and the answer is remembered. A caller that gives
      up waiting does not cancel the read for the others.
    * This instance's writes (`add`, `save`, whether they succeed or not) forget the id at once, including a
      read still on its way (its callers get what it read; the next `get` reads the store again). A failed
      save (a concurrent change won, or the store failed) forgets it too: what another instance wrote is then
      read at once.
    * Writes made by other instances are seen once the entry expires: within `ttl`, whatever else happens; and
      sooner when something that hears of them calls `forget` (one id) or `forget_all` (writes may have been
      missed), which drop reads under way too.
    * Absent and trashed teleconsultations (NotFound) and store failures are not remembered.
    * Least recently used entries are dropped beyond `max_entries`. A zero `ttl` or `max_entries` turns the
      cache off.
    * Only ids spelled as the store returns them are cached (the store accepts other spellings of an id, and
      a write names the id as stored): another spelling goes to the store every time.
    """

    def __init__(
        self, *, repository: TeleconsultationRepository, clock: Clock, ttl: timedelta, max_entries: int
    ) -> None:
        if ttl < timedelta(0):
            raise ValueError("the teleconsultation cache time to live must not be negative")
        if max_entries < 0:
            raise ValueError("the teleconsultation cache size must not be negative")
        self._repository = repository
        self._clock = clock
        self._ttl = ttl
        self._max_entries = max_entries
        self._enabled = bool(ttl) and max_entries > 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        # id -> the store read under way; a write drops it, so that read is not remembered.
        self._flights: dict[str, asyncio.Task[Teleconsultation]] = {}

    @property
    def cached(self) -> int:
        """How many teleconsultations are in memory (expired ones stay until read again or pushed out)."""
        return len(self._entries)

    async def next_id(self) -> str:
        return await self._repository.next_id()

    async def get(self, teleconsultation_id: str) -> Teleconsultation:
        if not self._enabled:
            return await self._repository.get(teleconsultation_id)
        now = self._clock.now()
        entry = self._entries.get(teleconsultation_id)
        if entry is not None:
            if entry.fresh_at(now, self._ttl):
                self._entries.move_to_end(teleconsultation_id)
                return replace(entry.teleconsultation)
            del self._entries[teleconsultation_id]
        flight = self._flights.get(teleconsultation_id)
        if flight is None:
            flight = asyncio.create_task(self._read(teleconsultation_id, now))
            flight.add_done_callback(_retrieve_outcome)
            self._flights[teleconsultation_id] = flight
        # Shielded: a cancelled caller (a client that hung up) leaves the read running for the other waiters.
        return replace(await asyncio.shield(flight))

    async def _read(self, teleconsultation_id: str, asked_at: datetime) -> Teleconsultation:
        this_flight = asyncio.current_task()
        try:
            teleconsultation = await self._repository.get(teleconsultation_id)
        finally:
            current = self._flights.get(teleconsultation_id) is this_flight
            if current:
                del self._flights[teleconsultation_id]
        if current and teleconsultation.id == teleconsultation_id:  # no write meanwhile; spelled as stored
            self._remember(teleconsultation_id, _Entry(replace(teleconsultation), asked_at))
        return teleconsultation

    async def add(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        try:
            await self._repository.add(teleconsultation, events, actor_id=actor_id)
        finally:
            self.forget(teleconsultation.id)

    async def save(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        try:
            await self._repository.save(teleconsultation, events, actor_id=actor_id)
        finally:
            self.forget(teleconsultation.id)

    def _remember(self, teleconsultation_id: str, entry: _Entry) -> None:
        self._entries[teleconsultation_id] = entry
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, teleconsultation_id: str) -> None:
        """The next `get` of this id reads the store; a read under way is not remembered."""
        self._entries.pop(teleconsultation_id, None)
        self._flights.pop(teleconsultation_id, None)

    def forget_all(self) -> None:
        """Every next `get` reads the store; no read under way is remembered."""
        self._entries.clear()
        self._flights.clear()


def _retrieve_outcome(flight: asyncio.Task[Teleconsultation]) -> None:
    # If every waiter was cancelled, nobody reads the task's exception; reading it here keeps asyncio quiet.
    if not flight.cancelled():
        flight.exception()
