"""Room details shared by every process on one MongoDB: one document per provider room, claimed by a conditional
write so that one process at a time asks the provider."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from adapters.mongo.errors import translate_store_errors
from adapters.mongo.mapping import as_bson_datetime
from application.dto import RoomDetails, SharedRoomDetailsRecord
from application.errors import StoreUnavailable
from application.ports import SharedRoomDetails

DEFAULT_ROOM_DETAILS_COLLECTION = "teleconsultations_room_details"
# Longer than any cache period (ROOM_DETAILS_CACHE_SECONDS, at most 60 s) and any claim (PROVIDER_TIMEOUT_SECONDS,
# at most 300 s): a record is useless by then, and the TTL index drops it.
RECORDS_KEPT_SECONDS = 600
TTL_INDEX = "writtenAt_ttl"
# A record is a cache: a write lost in a failover costs one more provider call, never a wrong answer.
_CACHE_WRITES = WriteConcern(w=1)

_DETAIL_FIELDS: dict[str, type] = {
    "recording": str,
    "recording_status": str,
    "call_type": str,
    "description": str,
    "status": str,
    "disabled": bool,
    "creation_date": str,
    "duration_in_seconds": int,
    "duration_used_in_seconds": int,
    "live": bool,
}


class MongoSharedRoomDetails(SharedRoomDetails):
    """`{_id: room id, details, fetchedAt, claimedBy, claimedUntil, writtenAt}`.

    A claim is one update matching the room only while its details are stale and no other owner's claim runs, or,
    with no document yet, one insert that the unique `_id` lets only one process win.
    """

    def __init__(self, database: AsyncDatabase[Any], collection: str = DEFAULT_ROOM_DETAILS_COLLECTION) -> None:
        self._collection: AsyncCollection[Any] = database.get_collection(collection, write_concern=_CACHE_WRITES)

    async def ensure_index(self) -> None:
        with translate_store_errors():
            existing = await self._collection.index_information()
            if TTL_INDEX not in existing:
                await self._collection.create_index(
                    [("writtenAt", ASCENDING)], name=TTL_INDEX, expireAfterSeconds=RECORDS_KEPT_SECONDS
                )

    async def read(self, room_id: str) -> SharedRoomDetailsRecord | None:
        with translate_store_errors():
            document = await self._collection.find_one({"_id": room_id})
        return None if document is None else _record(document)

    async def claim(self, room_id: str, owner: str, *, now: datetime, until: datetime, fresh_for: timedelta) -> bool:
        moment = as_bson_datetime(now)
        stale = [{"fetchedAt": None}, {"fetchedAt": {"$lte": as_bson_datetime(now - fresh_for)}}]
        # Fetched more than a period "after now": this clock went back (SharedRoomDetailsRecord.fresh_at).
        stale.append({"fetchedAt": {"$gt": as_bson_datetime(now + fresh_for)}})
        free = [{"claimedUntil": None}, {"claimedUntil": {"$lte": moment}}, {"claimedBy": owner}]
        claim = {"claimedBy": owner, "claimedUntil": as_bson_datetime(until), "writtenAt": moment}
        with translate_store_errors():
            taken = await self._collection.update_one(
                {"_id": room_id, "$and": [{"$or": stale}, {"$or": free}]}, {"$set": claim}
            )
            if taken.matched_count == 1:
                return True
            try:
                await self._collection.insert_one({"_id": room_id, "details": None, "fetchedAt": None, **claim})
            except DuplicateKeyError:
                return False  # the room has a record that is fresh or claimed by another
            return True

    async def publish(self, room_id: str, owner: str, details: RoomDetails | None, *, fetched_at: datetime) -> bool:
        at = as_bson_datetime(fetched_at)
        changes = {"details": _document(details), "fetchedAt": at, "claimedBy": None, "claimedUntil": None}
        with translate_store_errors():
            result = await self._collection.update_one(
                {"_id": room_id, "claimedBy": owner}, {"$set": {**changes, "writtenAt": at}}
            )
        return result.matched_count == 1

    async def release(self, room_id: str, owner: str) -> None:
        with translate_store_errors():
            await self._collection.update_one(
                {"_id": room_id, "claimedBy": owner}, {"$set": {"claimedBy": None, "claimedUntil": None}}
            )

    async def forget(self, room_id: str) -> None:
        with translate_store_errors():
            await self._collection.delete_one({"_id": room_id})


def _document(details: RoomDetails | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {name: getattr(details, name) for name in _DETAIL_FIELDS}


def _record(document: dict[str, Any]) -> SharedRoomDetailsRecord:
    fetched_at, claimed_until = document.get("fetchedAt"), document.get("claimedUntil")
    claimed_by, stored = document.get("claimedBy"), document.get("details")
    readable = _optional(fetched_at, datetime) and _optional(claimed_until, datetime) and _optional(claimed_by, str)
    values = stored if isinstance(stored, dict) else {}
    readable = readable and (stored is None or isinstance(stored, dict))
    readable = readable and all(_optional(values.get(name), kind) for name, kind in _DETAIL_FIELDS.items())
    if not readable:
        # Only this service writes these records; one of another shape is not guessed at (the caller then asks
        # the provider itself).
        raise StoreUnavailable("a shared room details record does not have the expected shape")
    details = None if stored is None else RoomDetails(**{name: values.get(name) for name in _DETAIL_FIELDS})
    return SharedRoomDetailsRecord(details, fetched_at, claimed_by, claimed_until)


def _optional(value: object, kind: type) -> bool:
    if value is None:
        return True
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
