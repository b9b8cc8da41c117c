"""Outbound webhook deliveries in MongoDB, leased to one deliverer at a time by atomic conditional updates."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from beanie import Document
from bson import Binary
from pydantic import BaseModel, ConfigDict, Field
from pymongo import ASCENDING, IndexModel, UpdateOne

from adapters.mongo.errors import translate_store_errors
from adapters.mongo.mapping import as_bson_datetime
from application.ports import Clock, WebhookDeliveries
from application.webhooks import DEAD, DELIVERED, PENDING, Delivery

DEFAULT_DELIVERIES_COLLECTION = "teleconsultations_webhook_deliveries"
DELIVERY_RECORDS_KEPT_SECONDS = 30 * 86_400
# Deliveries are claimed in the order they were queued: their millisecond, this process's counter, the process.
_SEQUENCE = itertools.count()
_PROCESS = secrets.token_hex(4)


class DeliveryFields(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    event_id: str = Field(alias="eventId")
    url: str
    body: bytes
    state: str
    attempts: int
    due: datetime = Field(alias="nextAttemptAt")
    created_at: datetime = Field(alias="createdAt")
    seq: str
    lease_owner: str | None = Field(default=None, alias="leaseOwner")
    lease_until: datetime | None = Field(default=None, alias="leaseUntil")


class DeliveryDocument(Document, DeliveryFields):
    pass


def bind_delivery_documents(collection: str) -> type[DeliveryDocument]:
    class Deliveries(Document, DeliveryFields):
        class Settings:
            name = collection
            indexes = [
                IndexModel([("state", ASCENDING), ("seq", ASCENDING)]),
                # Every delivery is settled (delivered or dead) within a day; its record goes after a month.
                IndexModel([("createdAt", ASCENDING)], expireAfterSeconds=DELIVERY_RECORDS_KEPT_SECONDS),
            ]

    return Deliveries


class MongoWebhookDeliveries(WebhookDeliveries):
    """A claim is one update per delivery, matching it only while it is due and unleased (or its lease ran out):
    of two deliverers exactly one gets it."""

    def __init__(self, model: type[DeliveryDocument], clock: Clock) -> None:
        self._model = model
        self._clock = clock

    async def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        now = as_bson_datetime(self._clock.now())
        writes = [
            UpdateOne(
                {"_id": delivery.id},
                {
                    "$setOnInsert": {
                        "eventId": delivery.event_id,
                        "url": delivery.url,
                        "body": Binary(delivery.body),
                        "state": PENDING,
                        "attempts": 0,
                        "nextAttemptAt": now,
                        "createdAt": now,
                        "seq": f"{int(now.timestamp() * 1000):013x}{next(_SEQUENCE):010x}{_PROCESS}",
                        "leaseOwner": None,
                        "leaseUntil": None,
                    }
                },
                upsert=True,
            )
            for delivery in deliveries
        ]
        with translate_store_errors():
            await self._model.get_pymongo_collection().bulk_write(writes, ordered=False)

    async def claim_due(self, owner: str, *, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        if limit <= 0:
            return []
        stamp = as_bson_datetime(now)
        free = [{"leaseUntil": None}, {"leaseUntil": {"$lte": stamp}}]
        due = {"state": PENDING, "nextAttemptAt": {"$lte": stamp}, "$or": free}
        collection = self._model.get_pymongo_collection()
        claimed: list[Delivery] = []
        with translate_store_errors():
            cursor = collection.find(due, {"_id": 1}).sort([("seq", ASCENDING)]).limit(limit)
            candidates = [document["_id"] async for document in cursor]
            for delivery_id in candidates:
                document = await collection.find_one_and_update(
                    {"_id": delivery_id, **due},
                    {"$set": {"leaseOwner": owner, "leaseUntil": as_bson_datetime(until)}},
                    return_document=True,
                )
                if document is not None:
                    claimed.append(_delivery(document))
        return claimed

    async def delivered(self, delivery_id: str, owner: str) -> None:
        with translate_store_errors():
            await self._model.get_pymongo_collection().update_one(
                {"_id": delivery_id, "leaseOwner": owner},
                {"$set": {"state": DELIVERED, "leaseOwner": None, "leaseUntil": None}},
            )

    async def failed(self, delivery_id: str, owner: str, *, retry_at: datetime | None) -> None:
        changes: dict[str, Any] = {"leaseOwner": None, "leaseUntil": None}
        if retry_at is None:
            changes["state"] = DEAD
        else:
            changes["nextAttemptAt"] = as_bson_datetime(retry_at)
        with translate_store_errors():
            await self._model.get_pymongo_collection().update_one(
                {"_id": delivery_id, "leaseOwner": owner}, {"$set": changes, "$inc": {"attempts": 1}}
            )

    async def counts(self) -> dict[str, int]:
        collection = self._model.get_pymongo_collection()
        with translate_store_errors():
            return {state: await collection.count_documents({"state": state}) for state in (PENDING, DELIVERED, DEAD)}


def _delivery(document: dict[str, Any]) -> Delivery:
    return Delivery(
        id=str(document["_id"]),
        event_id=str(document["eventId"]),
        url=str(document["url"]),
        body=bytes(document["body"]),
        attempts=int(document["attempts"]),
    )
