"""Room intents in MongoDB: one document each, leased and closed by atomic conditional updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from adapters.mongo.documents import RoomIntentDocument
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.mapping import as_bson_datetime, from_bson_datetime
from application.dto import RoomIntent
from application.ports import RoomIntents

INTENT = "intentId"
OUTCOME = "outcome"
UNKNOWN = "unknown"
LEASE_OWNER = "leaseOwner"
LEASE_UNTIL = "leaseUntil"
_OPEN: dict[str, Any] = {OUTCOME: None}
_OLDEST_FIRST = [("openedAt", 1), ("_id", 1)]


class MongoRoomIntents(RoomIntents):
    """Open intents have no `outcome`; a claim matches the intent only while it is open and its lease has run out
    (or is the claimer's own), so of two sweepers exactly one gets it, and a closed intent is never resolved twice."""

    def __init__(self, model: type[RoomIntentDocument]) -> None:
        self._model = model

    async def open(self, intent_id: str, teleconsultation_id: str, *, now: datetime, lease_until: datetime) -> None:
        document = {
            "_id": ObjectId(),
            INTENT: intent_id,
            "teleconsultationId": teleconsultation_id,
            "openedAt": as_bson_datetime(now),
            "roomId": None,
            LEASE_OWNER: None,
            LEASE_UNTIL: as_bson_datetime(lease_until),
            OUTCOME: None,
            "expiresAt": None,
        }
        with translate_store_errors():
            await self._collection().insert_one(document)

    async def record_room(self, intent_id: str, room_id: str) -> None:
        with translate_store_errors():
            await self._collection().update_one({INTENT: intent_id, **_OPEN}, {"$set": {"roomId": room_id}})

    async def close(self, intent_id: str) -> bool:
        with translate_store_errors():
            result = await self._collection().delete_one({INTENT: intent_id, **_OPEN})
        return bool(result.deleted_count == 1)

    async def close_unknown(self, intent_id: str, *, now: datetime, expires_at: datetime) -> bool:
        closed = {OUTCOME: UNKNOWN, "expiresAt": as_bson_datetime(expires_at), LEASE_OWNER: None}
        with translate_store_errors():
            result = await self._collection().update_one({INTENT: intent_id, **_OPEN}, {"$set": closed})
        return bool(result.matched_count == 1)

    async def overdue(self, now: datetime, limit: int) -> list[RoomIntent]:
        if limit <= 0:
            return []
        query = {**_OPEN, LEASE_UNTIL: {"$lte": as_bson_datetime(now)}}
        return await self._find(query, limit)

    async def claim(self, intent_id: str, owner: str, *, now: datetime, until: datetime) -> bool:
        claimable = [{LEASE_UNTIL: {"$lte": as_bson_datetime(now)}}, {LEASE_OWNER: owner}]
        lease = {LEASE_OWNER: owner, LEASE_UNTIL: as_bson_datetime(until)}
        with translate_store_errors():
            result = await self._collection().update_one(
                {INTENT: intent_id, **_OPEN, "$or": claimable}, {"$set": lease}
            )
        return bool(result.matched_count == 1)

    async def unknown(self, now: datetime, limit: int) -> list[RoomIntent]:
        if limit <= 0:
            return []
        return await self._find({OUTCOME: UNKNOWN, "expiresAt": {"$gt": as_bson_datetime(now)}}, limit)

    async def _find(self, query: dict[str, Any], limit: int) -> list[RoomIntent]:
        with translate_store_errors():
            raw = await self._collection().find(query).sort(_OLDEST_FIRST).limit(limit).to_list()
        return [_intent(self._model.model_validate(document)) for document in raw]

    def _collection(self) -> Any:
        return self._model.get_pymongo_collection()


def _intent(document: RoomIntentDocument) -> RoomIntent:
    return RoomIntent(
        intent_id=document.intent_id,
        teleconsultation_id=document.teleconsultation_id,
        opened_at=from_bson_datetime(document.opened_at),
        lease_until=from_bson_datetime(document.lease_until),
        room_id=document.room_id,
    )
