"""The event log in MongoDB, and the outbox inside the teleconsultation documents that feeds it.

An event enters the store in the same write as its change: the repository pushes it into the teleconsultation
document's `outbox` array with the same conditional update (adapters/mongo/repository.py). The relay copies it to
the event log under its id (a second copy is refused by `_id`) and only then pulls it from the outbox.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError

from adapters.mongo.documents import TeleconsultationDocument
from adapters.mongo.errors import refused_as_duplicates, translate_store_errors
from adapters.mongo.mapping import as_bson_datetime, from_bson_datetime, object_id
from application.events import Event, EventQuery
from application.ports import EventLog, EventOutbox, RoomIndex

DEFAULT_EVENTS_COLLECTION = "teleconsultations_events"
OUTBOX = "outbox"
# Set by retention (adapters/mongo/retention.py) once a teleconsultation's personal data is gone; a save unsets it.
PURGED = "personalDataRemovedAt"
# Events are listed by `seq`: the event's millisecond, then this process's counter, then the process. Within one
# process it follows the order of logging exactly (a change's events keep their order), across processes the time.
_SEQUENCE = itertools.count()
_PROCESS = secrets.token_hex(4)


class EventFields(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: datetime
    type: str
    teleconsultation_id: str | None = Field(default=None, alias="teleconsultationId")
    actor: str
    outcome: str
    request_id: str | None = Field(default=None, alias="requestId")
    seq: str


class EventDocument(Document, EventFields):
    pass


TTL_INDEX = "at_ttl"


def bind_event_documents(collection: str) -> type[EventDocument]:
    """The event log's document class for one store (see adapters.mongo.documents.bind_documents for why)."""

    class Events(Document, EventFields):
        class Settings:
            name = collection
            # The audit route's filters, each newest first.
            indexes = [
                IndexModel([("seq", DESCENDING)]),
                IndexModel([("teleconsultationId", ASCENDING), ("seq", DESCENDING)]),
                IndexModel([("actor", ASCENDING), ("seq", DESCENDING)]),
                IndexModel([("type", ASCENDING), ("seq", DESCENDING)]),
            ]

    return Events


def outbox_entry(event: Event) -> dict[str, Any]:
    """An event as it waits in a teleconsultation's outbox."""
    return {
        "id": event.id,
        "at": as_bson_datetime(event.at),
        "type": event.type,
        "teleconsultationId": event.teleconsultation_id,
        "actor": event.actor,
        "outcome": event.outcome,
        "requestId": event.request_id,
    }


def _from_entry(entry: dict[str, Any]) -> Event:
    return Event(
        id=str(entry["id"]),
        at=from_bson_datetime(entry["at"]),
        type=str(entry["type"]),
        teleconsultation_id=entry.get("teleconsultationId"),
        actor=str(entry["actor"]),
        outcome=str(entry["outcome"]),
        request_id=entry.get("requestId"),
    )


def _logged(event: Event) -> dict[str, Any]:
    """An event as the log holds it, under its id, with its place in the log (`seq`)."""
    at = as_bson_datetime(event.at)
    seq = f"{int(at.timestamp() * 1000):013x}{next(_SEQUENCE):010x}{_PROCESS}"
    document = {**outbox_entry(event), "_id": event.id, "seq": seq}
    del document["id"]
    return document


class MongoEventLog(EventLog):
    def __init__(self, model: type[EventDocument]) -> None:
        self._model = model

    async def keep_for(self, retention: timedelta | None) -> None:
        """AUDIT_RETENTION_DAYS as a TTL index on `at`: created, changed in place (collMod) when the period
        changed, dropped when events are kept for ever."""
        collection = self._model.get_pymongo_collection()
        with translate_store_errors():
            existing = await collection.index_information()
            if retention is None:
                if TTL_INDEX in existing:
                    await collection.drop_index(TTL_INDEX)
                return
            seconds = int(retention.total_seconds())
            if TTL_INDEX not in existing:
                await collection.create_index([("at", ASCENDING)], name=TTL_INDEX, expireAfterSeconds=seconds)
            elif existing[TTL_INDEX].get("expireAfterSeconds") != seconds:
                await collection.database.command(
                    {"collMod": collection.name, "index": {"name": TTL_INDEX, "expireAfterSeconds": seconds}}
                )

    async def append(self, event: Event) -> bool:
        with translate_store_errors():
            try:
                await self._model.get_pymongo_collection().insert_one(_logged(event))
            except DuplicateKeyError:
                return False
        return True

    async def append_all(self, events: Sequence[Event]) -> set[str]:
        """One ordered insert; an event already logged stops it, and the rest is sent again with places taken after
        that event's: so an event is only ever logged after those before it, by whichever relay (two relays of one
        teleconsultation at once included), and its place follows theirs."""
        logged: set[str] = set()
        waiting = list(events)
        collection = self._model.get_pymongo_collection()
        with translate_store_errors():
            while waiting:
                try:
                    await collection.insert_many([_logged(event) for event in waiting], ordered=True)
                except BulkWriteError as error:
                    taken = refused_as_duplicates(error)
                    if len(taken) != 1:  # an ordered insert stops at its first refusal
                        raise
                    (stopped_at,) = taken
                    logged.update(event.id for event in waiting[:stopped_at])
                    waiting = waiting[stopped_at + 1 :]
                else:
                    logged.update(event.id for event in waiting)
                    waiting = []
        return logged

    async def contains(self, event_id: str) -> bool:
        with translate_store_errors():
            return await self._model.get_pymongo_collection().count_documents({"_id": event_id}, limit=1) > 0

    async def query(self, query: EventQuery, limit: int, after: str | None = None) -> tuple[list[Event], str | None]:
        if limit <= 0:
            return [], None
        match: dict[str, Any] = {}
        if query.teleconsultation_id is not None:
            match["teleconsultationId"] = query.teleconsultation_id
        if query.actor is not None:
            match["actor"] = query.actor
        if query.type is not None:
            match["type"] = query.type
        moment: dict[str, Any] = {}
        if query.since is not None:
            moment["$gte"] = as_bson_datetime(query.since)
        if query.until is not None:
            moment["$lt"] = as_bson_datetime(query.until)
        if moment:
            match["at"] = moment
        if after is not None:
            match["seq"] = {"$lt": after}
        with translate_store_errors():
            cursor = self._model.get_pymongo_collection().find(match).sort("seq", DESCENDING).limit(limit + 1)
            found = [document async for document in cursor]
        page = found[:limit]
        events = [_from_entry({**document, "id": document["_id"]}) for document in page]
        return events, str(page[-1]["seq"]) if len(found) > limit else None


class MongoEventOutbox(EventOutbox):
    """The `outbox` arrays of the teleconsultation documents (trashed ones included)."""

    def __init__(self, model: type[TeleconsultationDocument]) -> None:
        self._model = model

    async def ensure_index(self) -> None:
        collection = self._model.get_pymongo_collection()
        with translate_store_errors():
            await collection.create_index([("outbox.id", ASCENDING)], sparse=True)
            # The provider's webhooks name rooms (MongoRoomIndex).
            await collection.create_index([("bandyerRoomId", ASCENDING)], sparse=True)

    async def pending(self, teleconsultation_id: str | None, limit: int) -> list[tuple[str, list[Event]]]:
        match: dict[str, Any] = {"outbox.id": {"$exists": True}}
        if teleconsultation_id is not None:
            oid = object_id(teleconsultation_id)
            if oid is None:
                return []
            match["_id"] = oid
        elif limit <= 0:
            return []
        with translate_store_errors():
            cursor = self._model.get_pymongo_collection().find(match, {OUTBOX: 1}).limit(max(limit, 1))
            found = [document async for document in cursor]
        return [
            (str(document["_id"]), [_from_entry(entry) for entry in document.get(OUTBOX) or []])
            for document in found
            if document.get(OUTBOX)
        ]

    async def remove(self, teleconsultation_id: str, event_ids: Sequence[str]) -> None:
        oid = object_id(teleconsultation_id)
        if oid is None or not event_ids:
            return
        with translate_store_errors():
            await self._model.get_pymongo_collection().update_one(
                {"_id": oid}, {"$pull": {OUTBOX: {"id": {"$in": list(event_ids)}}}}
            )


class MongoRoomIndex(RoomIndex):
    def __init__(self, model: type[TeleconsultationDocument]) -> None:
        self._model = model

    async def teleconsultation_of_room(self, room_id: str) -> str | None:
        with translate_store_errors():
            found = await self._model.get_pymongo_collection().find_one({"bandyerRoomId": room_id}, {"_id": 1})
        return None if found is None else str(found["_id"])
