"""In-memory TeleconsultationRepository and UserIdMap that honour the same contract as the MongoDB adapters."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from adapters.object_ids import unpredictable_object_id
from application.dto import RecordedRoomDeletion, UserMapping
from application.errors import ConcurrentUpdate, NotFound, ReservationLost, UserCreationInProgress
from application.events import Event
from application.ports import (
    Clock,
    EventOutbox,
    RecordedRoomDeletions,
    RetentionStore,
    RoomIndex,
    TeleconsultationRepository,
    UserIdMap,
)
from application.retention import Retained
from domain.duration_policy import Schedule
from domain.teleconsultation import Teleconsultation

_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")


class InMemoryTeleconsultationRepository(TeleconsultationRepository, EventOutbox, RoomIndex, RetentionStore):
    """Keeps private copies, so a change is visible to readers only once it is saved.

    A shallow copy (`dataclasses.replace`) is a private copy: every field of the aggregate is immutable
    (strings, tuples of frozen participants, a frozen schedule), so a change always rebinds a field of one
    copy and never reaches another.

    Contract details shared with the MongoDB adapter: ids are 24-hex strings (case-insensitive,
    returned lower-case); an unknown, trashed or malformed id is NotFound; datetimes come back in
    UTC truncated to milliseconds, as BSON stores them; adding an id that is already stored raises
    ConcurrentUpdate; saving a teleconsultation that was trashed since it was read raises ConcurrentUpdate,
    one that was never stored NotFound.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._stored: dict[str, Teleconsultation] = {}
        # When each was last written, as the store's `updatedAt`; without a clock, every write counts as long ago.
        self._clock = clock
        self._written_at: dict[str, datetime] = {}
        self._cancelled_at: dict[str, datetime] = {}  # when each trashed one was trashed
        self._purged: set[str] = set()
        self._outbox: dict[str, list[Event]] = {}

    async def next_id(self) -> str:
        return unpredictable_object_id()

    async def get(self, teleconsultation_id: str) -> Teleconsultation:
        await _yield_like_io()
        stored = self._live(teleconsultation_id)
        if stored is None:
            raise NotFound(teleconsultation_id)
        return replace(stored)

    async def add(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        # The writer's id is a CRUD field of the stored document: this store keeps none.
        await _yield_like_io()
        key = _key(teleconsultation.id)
        if key is None:
            raise ValueError("a teleconsultation id must be a 24-hex ObjectId string")
        if key in self._stored:
            raise ConcurrentUpdate(teleconsultation.id)
        self._stored[key] = _stored_copy(teleconsultation, key, version=1)
        self._written(key)
        self._outbox.setdefault(key, []).extend(events)
        teleconsultation.version = 1

    async def save(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        await _yield_like_io()
        key = _key(teleconsultation.id)
        stored = None if key is None else self._stored.get(key)
        if stored is None:
            raise NotFound(teleconsultation.id)
        if stored.discarded or stored.version != teleconsultation.version:
            # Trashed since it was read: a concurrent change won, as with any other version.
            raise ConcurrentUpdate(teleconsultation.id)
        # No await between the check above and this write: the check-and-set is atomic.
        new_version = teleconsultation.version + 1
        self._stored[stored.id] = _stored_copy(teleconsultation, stored.id, version=new_version)
        self._written(stored.id)
        self._outbox.setdefault(stored.id, []).extend(events)
        if teleconsultation.discarded:
            self._cancelled_at[stored.id] = self._now()
        self._purged.discard(stored.id)  # the change stored the participants' data anew
        teleconsultation.version = new_version

    def date_writes(self, clock: Clock) -> None:
        if self._clock is None:
            self._clock = clock

    def written_at(self, key: str) -> datetime:
        return self._written_at.get(key, datetime.min.replace(tzinfo=UTC))

    def _written(self, key: str) -> None:
        if self._clock is not None:
            self._written_at[key] = self._clock.now()

    async def due_for_purge(self, *, ended_before: datetime, cancelled_before: datetime, limit: int) -> list[Retained]:
        await _yield_like_io()
        due = [
            Retained(key, stored.provider_room_id)
            for key, stored in self._stored.items()
            if key not in self._purged
            and (
                (stored.discarded and self._cancelled_at.get(key, ended_before) < cancelled_before)
                or (not stored.discarded and stored.schedule.end < ended_before)
            )
        ]
        return due[: max(limit, 0)]

    async def purge(self, teleconsultation_id: str, event: Event) -> bool:
        await _yield_like_io()
        key = _key(teleconsultation_id)
        stored = None if key is None else self._stored.get(key)
        if key is None or stored is None or key in self._purged:
            return False
        participants = tuple(replace(p, full_name=None, access_link=None, groups=()) for p in stored.participants)
        self._stored[key] = replace(stored, participants=participants, version=stored.version + 1)
        self._purged.add(key)
        self._outbox.setdefault(key, []).append(event)
        return True

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    async def teleconsultation_of_room(self, room_id: str) -> str | None:
        await _yield_like_io()
        return next((key for key, stored in self._stored.items() if stored.provider_room_id == room_id), None)

    async def pending(self, teleconsultation_id: str | None, limit: int) -> list[tuple[str, list[Event]]]:
        await _yield_like_io()
        if teleconsultation_id is not None:
            key = _key(teleconsultation_id)
            waiting = [] if key is None else self._outbox.get(key, [])
            return [(key, list(waiting))] if key is not None and waiting else []
        return [(key, list(events)) for key, events in self._outbox.items() if events][: max(limit, 0)]

    async def remove(self, teleconsultation_id: str, event_ids: Sequence[str]) -> None:
        await _yield_like_io()
        key = _key(teleconsultation_id)
        if key is None or key not in self._outbox:
            return
        gone = set(event_ids)
        self._outbox[key] = [event for event in self._outbox[key] if event.id not in gone]

    def _live(self, teleconsultation_id: str) -> Teleconsultation | None:
        key = _key(teleconsultation_id)
        stored = None if key is None else self._stored.get(key)
        return None if stored is None or stored.discarded else stored


class InMemoryRecordedRoomDeletions(RecordedRoomDeletions):
    """The rooms the teleconsultations of one in-memory repository, live or trashed, still list as to delete."""

    def __init__(self, repository: InMemoryTeleconsultationRepository) -> None:
        self._repository = repository
        self._stored = repository._stored  # one store, seen through two ports

    async def pending(self, limit: int, *, listed_before: datetime) -> list[RecordedRoomDeletion]:
        await _yield_like_io()
        listed = [
            RecordedRoomDeletion(t.id, room)
            for t in self._stored.values()
            if self._repository.written_at(t.id) <= listed_before
            for room in t.rooms_to_delete
        ]
        return listed[: max(limit, 0)]

    async def done(self, deletion: RecordedRoomDeletion) -> None:
        await _yield_like_io()
        stored = self._stored.get(deletion.teleconsultation_id)
        if stored is not None:
            # Not a new version: a change in flight may still be stored, and would list the room again at worst.
            left = tuple(room for room in stored.rooms_to_delete if room != deletion.room_id)
            self._stored[stored.id] = replace(stored, rooms_to_delete=left)

    async def count(self) -> int:
        await _yield_like_io()
        return sum(len(t.rooms_to_delete) for t in self._stored.values())


@dataclass(frozen=True, slots=True)
class _Reservation:
    owner: str
    until: datetime


class InMemoryUserIdMap(UserIdMap):
    """Mappings and running reservations; check-and-set steps never await in between, so each is atomic."""

    def __init__(self) -> None:
        self._entries: dict[str, UserMapping | _Reservation] = {}

    async def find(self, received_user_id: str) -> UserMapping | None:
        await _yield_like_io()
        entry = self._entries.get(received_user_id)
        return entry if isinstance(entry, UserMapping) else None

    async def find_many(self, received_user_ids: Collection[str]) -> dict[str, UserMapping]:
        await _yield_like_io()
        found = {user_id: self._entries.get(user_id) for user_id in received_user_ids}
        return {user_id: entry for user_id, entry in found.items() if isinstance(entry, UserMapping)}

    async def reserve(self, received_user_id: str, owner: str, *, now: datetime, until: datetime) -> UserMapping | None:
        await _yield_like_io()
        entry = self._entries.get(received_user_id)
        if isinstance(entry, UserMapping):
            return entry
        if entry is not None and entry.owner != owner and entry.until > now:
            raise UserCreationInProgress
        self._entries[received_user_id] = _Reservation(owner, until)
        return None

    async def reserve_new(
        self, received_user_ids: Collection[str], owner: str, *, now: datetime, until: datetime
    ) -> set[str]:
        await _yield_like_io()
        new = {user_id for user_id in received_user_ids if user_id not in self._entries}
        for user_id in new:
            self._entries[user_id] = _Reservation(owner, until)
        return new

    async def complete(self, mapping: UserMapping, owner: str) -> None:
        await _yield_like_io()
        if not self._complete(mapping, owner):
            raise ReservationLost("the reservation of the external user id was taken over")

    async def complete_all(self, mappings: Collection[UserMapping], owner: str) -> set[str]:
        await _yield_like_io()
        return {mapping.received_user_id for mapping in mappings if not self._complete(mapping, owner)}

    def _complete(self, mapping: UserMapping, owner: str) -> bool:
        entry = self._entries.get(mapping.received_user_id)
        if not (isinstance(entry, _Reservation) and entry.owner == owner):
            return False
        self._entries[mapping.received_user_id] = replace(mapping, groups=tuple(mapping.groups))
        return True

    async def abandon(self, received_user_id: str, owner: str) -> None:
        await _yield_like_io()
        entry = self._entries.get(received_user_id)
        if isinstance(entry, _Reservation) and entry.owner == owner:
            del self._entries[received_user_id]


async def _yield_like_io() -> None:
    # A real store suspends the caller on every call; doing the same lets concurrent use cases
    # interleave in tests exactly where they could interleave in production.
    await asyncio.sleep(0)


def _key(teleconsultation_id: str) -> str | None:
    return teleconsultation_id.lower() if _OBJECT_ID.fullmatch(teleconsultation_id) else None


def _stored_copy(teleconsultation: Teleconsultation, key: str, *, version: int) -> Teleconsultation:
    schedule = teleconsultation.schedule
    return replace(
        teleconsultation,
        id=key,
        version=version,
        schedule=Schedule(_as_stored(schedule.start), _as_stored(schedule.end)),
    )


def _as_stored(moment: datetime) -> datetime:
    """What a BSON date keeps of a datetime: the UTC instant, to the millisecond."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("teleconsultation datetimes must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
