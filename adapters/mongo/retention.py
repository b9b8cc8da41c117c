"""RETENTION_DAYS in MongoDB: the teleconsultations due, and their personal fields removed by one conditional
update that also carries the purge's event (the outbox)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from adapters.mongo.documents import STATE, TRASH, VERSION, TeleconsultationDocument
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.events import OUTBOX, PURGED, outbox_entry
from adapters.mongo.legacy import LIVE_STATES
from adapters.mongo.mapping import as_bson_datetime, object_id
from application.events import Event
from application.ports import Clock, RetentionStore
from application.retention import Retained

# Every name the original and this service ever gave a participant's personal fields.
_PERSONAL = ("fullName", "accessLinkURL", "groups", "group")
# A document the original stored without an end: it lasted at most this long (adapters/mongo/legacy.py).
_LONGEST = timedelta(hours=24)


class MongoRetention(RetentionStore):
    def __init__(self, model: type[TeleconsultationDocument], clock: Clock) -> None:
        self._model = model
        self._clock = clock

    async def ensure_index(self) -> None:
        with translate_store_errors():
            await self._model.get_pymongo_collection().create_index([(PURGED, 1), ("endDate", 1)])

    async def due_for_purge(self, *, ended_before: datetime, cancelled_before: datetime, limit: int) -> list[Retained]:
        if limit <= 0:
            return []
        live = {"$in": list(LIVE_STATES)}
        due = {
            PURGED: {"$exists": False},
            "$or": [
                {STATE: live, "endDate": {"$lt": as_bson_datetime(ended_before)}},
                {
                    STATE: live,
                    "endDate": {"$exists": False},
                    "startDate": {"$lt": as_bson_datetime(ended_before - _LONGEST)},
                },
                {STATE: {"$in": [TRASH, "DELETED"]}, "updatedAt": {"$lt": as_bson_datetime(cancelled_before)}},
            ],
        }
        with translate_store_errors():
            cursor = self._model.get_pymongo_collection().find(due, {"bandyerRoomId": 1}).limit(limit)
            found = [document async for document in cursor]
        return [Retained(str(document["_id"]), document.get("bandyerRoomId")) for document in found]

    async def purge(self, teleconsultation_id: str, event: Event) -> bool:
        oid = object_id(teleconsultation_id)
        if oid is None:
            return False
        collection = self._model.get_pymongo_collection()
        with translate_store_errors():
            document = await collection.find_one({"_id": oid, PURGED: {"$exists": False}})
            if document is None:
                return False
            participants = [_without_personal_fields(entry) for entry in document.get("participants") or []]
            version = document.get(VERSION)
            unchanged: dict[str, Any] = {VERSION: {"$exists": False}} if version is None else {VERSION: version}
            now = as_bson_datetime(self._clock.now())
            result = await collection.update_one(
                {"_id": oid, PURGED: {"$exists": False}, **unchanged},
                {
                    "$set": {"participants": participants, PURGED: now, "updatedAt": now},
                    "$inc": {VERSION: 1},
                    "$push": {OUTBOX: outbox_entry(event)},
                },
            )
        return result.matched_count == 1


def _without_personal_fields(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    kept = {name: value for name, value in entry.items() if name not in _PERSONAL}
    return {**kept, "groups": []}
