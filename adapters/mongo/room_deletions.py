"""The rooms stored teleconsultations list as still to delete (`roomsToDelete`), read and pruned in place."""

from __future__ import annotations

from datetime import datetime

from adapters.mongo.documents import ROOMS_TO_DELETE, TeleconsultationDocument
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.mapping import as_bson_datetime, object_id
from application.dto import RecordedRoomDeletion
from application.ports import RecordedRoomDeletions

# Documents the original wrote have no such field; `$exists` with `$ne` keeps them out of every query.
_LISTING = {ROOMS_TO_DELETE: {"$exists": True, "$ne": []}}


class MongoRecordedRoomDeletions(RecordedRoomDeletions):
    """Any state: a cancelled teleconsultation is trashed by the same write that lists its room.

    `done` pulls the room from the list without touching `version`: a change read before it stays valid, and at
    worst lists the room again (deleting a deleted room counts as done), while a change cannot drop a room listed
    after it read the document, because that listing came with a new version its conditional write would miss.
    """

    def __init__(self, model: type[TeleconsultationDocument]) -> None:
        self._model = model

    async def pending(self, limit: int, *, listed_before: datetime) -> list[RecordedRoomDeletion]:
        if limit <= 0:
            return []
        listed: list[RecordedRoomDeletion] = []
        query = {**_LISTING, "updatedAt": {"$lte": as_bson_datetime(listed_before)}}
        with translate_store_errors():
            cursor = self._model.get_pymongo_collection().find(query, {ROOMS_TO_DELETE: 1}).sort("_id", 1)
            async for raw in cursor:
                rooms = raw.get(ROOMS_TO_DELETE)
                if not isinstance(rooms, list):
                    continue
                listed += [RecordedRoomDeletion(str(raw["_id"]), room) for room in rooms if isinstance(room, str)]
                if len(listed) >= limit:
                    break
        return listed[:limit]

    async def done(self, deletion: RecordedRoomDeletion) -> None:
        oid = object_id(deletion.teleconsultation_id)
        if oid is None:
            return
        with translate_store_errors():
            await self._model.get_pymongo_collection().update_one(
                {"_id": oid}, {"$pull": {ROOMS_TO_DELETE: deletion.room_id}}
            )

    async def count(self) -> int:
        with translate_store_errors():
            cursor = self._model.get_pymongo_collection().find(_LISTING, {ROOMS_TO_DELETE: 1})
            return sum([len(raw.get(ROOMS_TO_DELETE) or ()) async for raw in cursor])
