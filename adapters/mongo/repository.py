"""MongoDB adapters of the persistence ports, through beanie documents and pymongo's async driver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from beanie import SortDirection
from bson import ObjectId
from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from adapters.mongo.documents import (
    PUBLIC,
    STATE,
    VERSION,
    PendingRoomCleanupDocument,
    TeleconsultationDocument,
    UserIdMapDocument,
)
from adapters.mongo.mapping import (
    as_bson_datetime,
    fields_to_set,
    mapping_to_document,
    mapping_to_domain,
    object_id,
    to_document,
    to_domain,
)
from application.dto import UserMapping
from application.errors import AlreadyMapped, ConcurrentUpdate, NotFound, StoreUnavailable
from application.ports import Clock, PendingRoomCleanups, TeleconsultationRepository, UserIdMap
from domain.teleconsultation import Teleconsultation


class MongoTeleconsultationRepository(TeleconsultationRepository):
    """Teleconsultations in a CRUD-shaped collection, with optimistic concurrency on `version`.

    A save is one conditional update on `_id` + `version` + `__STATE__: PUBLIC`. When it matches
    nothing, a second read decides the error: ConcurrentUpdate while a live document exists at
    another version, NotFound once it is gone or trashed (a concurrent delete won). Adding an id
    that already exists raises ConcurrentUpdate. A malformed id names nothing: NotFound.
    """

    def __init__(self, model: type[TeleconsultationDocument], clock: Clock) -> None:
        self._model = model
        self._clock = clock

    async def next_id(self) -> str:
        return str(ObjectId())

    async def get(self, teleconsultation_id: str) -> Teleconsultation:
        oid = object_id(teleconsultation_id)
        if oid is None:
            raise NotFound(teleconsultation_id)
        with translate_store_errors():
            document = await self._model.find_one({"_id": oid, STATE: PUBLIC})
        if document is None:
            raise NotFound(teleconsultation_id)
        return to_domain(document)

    async def add(self, teleconsultation: Teleconsultation) -> None:
        document = to_document(teleconsultation, self._model, now=self._clock.now(), version=1)
        with translate_store_errors():
            try:
                await document.insert()
            except DuplicateKeyError:
                raise ConcurrentUpdate(teleconsultation.id) from None
        teleconsultation.version = 1

    async def save(self, teleconsultation: Teleconsultation) -> None:
        oid = object_id(teleconsultation.id)
        if oid is None:
            raise NotFound(teleconsultation.id)
        changes = fields_to_set(to_document(teleconsultation, self._model, now=self._clock.now()))
        collection = self._model.get_pymongo_collection()
        live = {"_id": oid, STATE: PUBLIC}
        with translate_store_errors():
            result = await collection.update_one(
                {**live, VERSION: teleconsultation.version},
                {"$set": changes, "$inc": {VERSION: 1}},
            )
            if result.matched_count == 1:
                teleconsultation.version += 1
                return
            exists = await collection.count_documents(live, limit=1) > 0
        raise ConcurrentUpdate(teleconsultation.id) if exists else NotFound(teleconsultation.id)


class MongoUserIdMap(UserIdMap):
    """Mappings keyed by a unique index on receivedUserId.

    `find` ignores the CRUD state: the unique index spans every state, so a mapping that could
    block `add` must also be visible to `find`, or the caller could never make progress.
    """

    def __init__(self, model: type[UserIdMapDocument], clock: Clock) -> None:
        self._model = model
        self._clock = clock

    async def find(self, received_user_id: str) -> UserMapping | None:
        with translate_store_errors():
            document = await self._model.find_one({"receivedUserId": received_user_id})
        return None if document is None else mapping_to_domain(document)

    async def add(self, mapping: UserMapping) -> None:
        document = mapping_to_document(mapping, self._model, now=self._clock.now())
        with translate_store_errors():
            try:
                await document.insert()
            except DuplicateKeyError:
                # `from None`: the driver's message quotes the duplicate id, which is personal data.
                raise AlreadyMapped("the external user id already has a provider user") from None


class MongoPendingRoomCleanups(PendingRoomCleanups):
    """Provider rooms still to delete, oldest first; adding a room twice keeps its first position."""

    def __init__(self, model: type[PendingRoomCleanupDocument], clock: Clock) -> None:
        self._model = model
        self._clock = clock

    async def add(self, room_id: str) -> None:
        collection = self._model.get_pymongo_collection()
        on_insert: dict[str, Any] = {"_id": ObjectId(), "createdAt": as_bson_datetime(self._clock.now())}
        # A concurrent add of the same room may win the upsert: the room is pending either way.
        with translate_store_errors(), suppress(DuplicateKeyError):
            await collection.update_one({"roomId": room_id}, {"$setOnInsert": on_insert}, upsert=True)

    async def remove(self, room_id: str) -> None:
        with translate_store_errors():
            await self._model.get_pymongo_collection().delete_one({"roomId": room_id})

    async def pending(self, limit: int) -> list[str]:
        if limit <= 0:
            return []
        with translate_store_errors():
            oldest_first = [("createdAt", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)]
            documents = await self._model.find({}).sort(oldest_first).limit(limit).to_list()
        return [document.room_id for document in documents]


@contextmanager
def translate_store_errors() -> Iterator[None]:
    """Turn driver failures into StoreUnavailable; application errors raised inside pass through."""
    try:
        yield
    except OperationFailure as error:
        # Server errors can quote stored values (personal data): keep the code, drop the message.
        raise StoreUnavailable(f"MongoDB refused the operation (code {error.code})") from None
    except PyMongoError as error:
        raise StoreUnavailable(f"MongoDB is unavailable ({type(error).__name__})") from error
    except ValidationError:
        raise StoreUnavailable("a stored document does not have the expected shape") from None
