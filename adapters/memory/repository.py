"""In-memory TeleconsultationRepository and UserIdMap that honour the same contract as the MongoDB adapters."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from application.dto import UserMapping
from application.errors import ConcurrentUpdate, NotFound, ReservationLost, UserCreationInProgress
from application.ports import TeleconsultationRepository, UserIdMap
from domain.duration_policy import Schedule
from domain.teleconsultation import Teleconsultation

_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")


class InMemoryTeleconsultationRepository(TeleconsultationRepository):
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

    def __init__(self) -> None:
        self._stored: dict[str, Teleconsultation] = {}

    async def next_id(self) -> str:
        return secrets.token_hex(12)

    async def get(self, teleconsultation_id: str) -> Teleconsultation:
        await _yield_like_io()
        stored = self._live(teleconsultation_id)
        if stored is None:
            raise NotFound(teleconsultation_id)
        return replace(stored)

    async def add(self, teleconsultation: Teleconsultation, *, actor_id: str | None = None) -> None:
        # The writer's id is a CRUD field of the stored document: this store keeps none.
        await _yield_like_io()
        key = _key(teleconsultation.id)
        if key is None:
            raise ValueError("a teleconsultation id must be a 24-hex ObjectId string")
        if key in self._stored:
            raise ConcurrentUpdate(teleconsultation.id)
        self._stored[key] = _stored_copy(teleconsultation, key, version=1)
        teleconsultation.version = 1

    async def save(self, teleconsultation: Teleconsultation, *, actor_id: str | None = None) -> None:
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
        teleconsultation.version = new_version

    def _live(self, teleconsultation_id: str) -> Teleconsultation | None:
        key = _key(teleconsultation_id)
        stored = None if key is None else self._stored.get(key)
        return None if stored is None or stored.discarded else stored


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

    async def complete(self, mapping: UserMapping, owner: str) -> None:
        await _yield_like_io()
        entry = self._entries.get(mapping.received_user_id)
        if not (isinstance(entry, _Reservation) and entry.owner == owner):
            raise ReservationLost("the reservation of the external user id was taken over")
        self._entries[mapping.received_user_id] = replace(mapping, groups=tuple(mapping.groups))

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
