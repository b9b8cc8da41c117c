"""The pending room cleanups in MongoDB, leased to one sweeper at a time by atomic conditional updates."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from beanie import SortDirection
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from adapters.mongo.documents import PendingRoomCleanupDocument
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.mapping import as_bson_datetime
from application.ports import Clock, PendingRoomCleanups

ROOM = "roomId"
LEASE_OWNER = "leaseOwner"
LEASE_UNTIL = "leaseUntil"


class MongoPendingRoomCleanups(PendingRoomCleanups):
    """Provider rooms still to delete, oldest first; adding a room twice keeps its first position and lease.

    A claim is one update matching the room only while it is unleased, its lease has run out, or the lease is the
    claimer's own: the server applies it to one document atomically, so of two sweepers exactly one gets the room.
    """

    def __init__(self, model: type[PendingRoomCleanupDocument], clock: Clock) -> None:
        self._model = model
        self._clock = clock

    async def add(self, room_id: str) -> None:
        collection = self._model.get_pymongo_collection()
        on_insert: dict[str, Any] = {"_id": ObjectId(), "createdAt": as_bson_datetime(self._clock.now())}
        # A concurrent add of the same room may win the upsert: the room is pending either way.
        with translate_store_errors(), suppress(DuplicateKeyError):
            await collection.update_one({ROOM: room_id}, {"$setOnInsert": on_insert}, upsert=True)

    async def remove(self, room_id: str) -> None:
        with translate_store_errors():
            await self._model.get_pymongo_collection().delete_one({ROOM: room_id})

    async def pending(self, limit: int) -> list[str]:
        if limit <= 0:
            return []
        with translate_store_errors():
            oldest_first = [("createdAt", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)]
            documents = await self._model.find({}).sort(oldest_first).limit(limit).to_list()
        return [document.room_id for document in documents]

    async def count(self) -> int:
        with translate_store_errors():
            return await self._model.get_pymongo_collection().count_documents({})

    async def claim(self, room_id: str, owner: str, *, now: datetime, until: datetime) -> bool:
        claimable = [{LEASE_UNTIL: None}, {LEASE_UNTIL: {"$lte": as_bson_datetime(now)}}, {LEASE_OWNER: owner}]
        lease = {LEASE_OWNER: owner, LEASE_UNTIL: as_bson_datetime(until)}
        with translate_store_errors():
            result = await self._model.get_pymongo_collection().update_one(
                {ROOM: room_id, "$or": claimable}, {"$set": lease}
            )
        return result.matched_count == 1

    async def release(self, room_id: str, owner: str) -> None:
        with translate_store_errors():
            await self._model.get_pymongo_collection().update_one(
                {ROOM: room_id, LEASE_OWNER: owner}, {"$set": {LEASE_OWNER: None, LEASE_UNTIL: None}}
            )
