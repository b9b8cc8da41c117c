"""Idempotency records in MongoDB: one document per key, claimed and completed by conditional updates."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from adapters.mongo.documents import IdempotencyRecordDocument
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.mapping import as_bson_datetime
from application.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from application.ports import IdempotencyRecords

# A record that vanishes between two steps (its attempt failed) is retried; more turns than that is a crowd.
_BEGIN_TURNS = 3


class MongoIdempotencyRecords(IdempotencyRecords):
    """The unique index on `key` lets one insert win; a record that expired or whose attempt's lease ran out is
    replaced by one conditional update, so of two attempts at once exactly one holds the key."""

    def __init__(self, model: type[IdempotencyRecordDocument]) -> None:
        self._model = model

    async def begin(
        self, key: str, fingerprint: str, owner: str, *, now: datetime, lease_until: datetime, expires_at: datetime
    ) -> str | None:
        collection = self._model.get_pymongo_collection()
        fresh = {
            "key": key,
            "fingerprint": fingerprint,
            "owner": owner,
            "leaseUntil": as_bson_datetime(lease_until),
            "expiresAt": as_bson_datetime(expires_at),
            "result": None,
        }
        moment = as_bson_datetime(now)
        stale = {"key": key, "$or": [{"expiresAt": {"$lte": moment}}, {"result": None, "leaseUntil": {"$lte": moment}}]}
        with translate_store_errors():
            for _ in range(_BEGIN_TURNS):
                try:
                    await collection.insert_one(dict(fresh))
                    return None
                except DuplicateKeyError:
                    pass  # the key is taken: see by whom
                if (await collection.update_one(stale, {"$set": fresh})).matched_count == 1:
                    return None
                record = await self._model.find_one({"key": key})
                if record is None:
                    continue
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused
                if record.result is None:
                    raise IdempotencyKeyInFlight
                return record.result
        raise IdempotencyKeyInFlight

    async def finish(self, key: str, owner: str, result: str) -> None:
        with translate_store_errors():
            await self._model.get_pymongo_collection().update_one(
                {"key": key, "owner": owner, "result": None}, {"$set": {"result": result, "leaseUntil": None}}
            )

    async def release(self, key: str, owner: str) -> None:
        with translate_store_errors():
            await self._model.get_pymongo_collection().delete_one({"key": key, "owner": owner, "result": None})
