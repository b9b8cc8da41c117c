"""Shared room details in one process's memory, with the same contract as the MongoDB records."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.dto import RoomDetails, SharedRoomDetailsRecord
from application.ports import SharedRoomDetails

# As in MongoDB: records are dropped this long after their last write.
RECORDS_KEPT = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class _Stored:
    record: SharedRoomDetailsRecord
    written_at: datetime


class InMemorySharedRoomDetails(SharedRoomDetails):
    """Shared by whatever holds this one object: the RoomDetailsCache instances of one process (or of a test).

    Records are kept in the order of their last write; each write drops, oldest first, those whose last write is
    `RECORDS_KEPT` older than it, so rooms nobody polls any more do not pile up.
    """

    def __init__(self) -> None:
        self._records: dict[str, _Stored] = {}

    def __len__(self) -> int:
        return len(self._records)

    async def read(self, room_id: str) -> SharedRoomDetailsRecord | None:
        stored = self._records.get(room_id)
        return None if stored is None else stored.record

    async def claim(self, room_id: str, owner: str, *, now: datetime, until: datetime, fresh_for: timedelta) -> bool:
        stored = self._records.get(room_id)
        if stored is None:
            self._write(room_id, SharedRoomDetailsRecord(None, None, owner, until), now)
            return True
        record = stored.record
        if record.fresh_at(now, fresh_for) or record.claimed_by_another_at(now, owner):
            return False
        self._write(room_id, replace(record, claimed_by=owner, claimed_until=until), now)
        return True

    async def publish(self, room_id: str, owner: str, details: RoomDetails | None, *, fetched_at: datetime) -> bool:
        stored = self._records.get(room_id)
        if stored is None or stored.record.claimed_by != owner:
            return False
        self._write(room_id, SharedRoomDetailsRecord(details, fetched_at), fetched_at)
        return True

    async def release(self, room_id: str, owner: str) -> None:
        stored = self._records.get(room_id)
        if stored is not None and stored.record.claimed_by == owner:
            record = replace(stored.record, claimed_by=None, claimed_until=None)
            self._records[room_id] = _Stored(record, stored.written_at)

    async def forget(self, room_id: str) -> None:
        self._records.pop(room_id, None)

    def _write(self, room_id: str, record: SharedRoomDetailsRecord, at: datetime) -> None:
        self._records.pop(room_id, None)
        self._records[room_id] = _Stored(record, at)
        while self._records:
            oldest = next(iter(self._records))
            if self._records[oldest].written_at > at - RECORDS_KEPT:
                return
            del self._records[oldest]
