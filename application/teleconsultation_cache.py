"""Teleconsultations cached per instance for a moment, so that a poll costs no store read when nothing changed.

Why a cached teleconsultation is safe to show: links are shown only inside the immutable period, and inside it
every change but a cancellation is refused. So a teleconsultation another instance changed can be stale in two
ways only: before the window (its link is null anyway; only the roster could differ), and after a cancellation.
Both last at most the time to live; this instance's own writes are seen at once.
"""

from __future__ import annotations

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
    * This instance's writes (`add`, `save`, whether they succeed or not) forget the id at once, including a
      read still on its way, so the next `get` reads the store. A failed save (a concurrent change won, or the
      store failed) forgets it too: what another instance wrote is then read at once.
    * Writes made by other instances are seen once the entry expires: within `ttl`.
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
        # id -> the token of the latest read under way; a write drops it, so that read is not remembered.
        self._reads: dict[str, object] = {}

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
        token = self._reads[teleconsultation_id] = object()
        try:
            teleconsultation = await self._repository.get(teleconsultation_id)
        finally:
            current = self._reads.get(teleconsultation_id) is token
            if current:
                del self._reads[teleconsultation_id]
        if current and teleconsultation.id == teleconsultation_id:  # no write meanwhile; spelled as stored
            self._remember(teleconsultation_id, _Entry(replace(teleconsultation), now))
        return teleconsultation

    async def add(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        try:
            await self._repository.add(teleconsultation, events, actor_id=actor_id)
        finally:
            self._forget(teleconsultation.id)

    async def save(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        try:
            await self._repository.save(teleconsultation, events, actor_id=actor_id)
        finally:
            self._forget(teleconsultation.id)

    def _remember(self, teleconsultation_id: str, entry: _Entry) -> None:
        self._entries[teleconsultation_id] = entry
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def _forget(self, teleconsultation_id: str) -> None:
        self._entries.pop(teleconsultation_id, None)
        self._reads.pop(teleconsultation_id, None)
