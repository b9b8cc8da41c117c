"""MongoDB adapters of the persistence ports, through beanie documents and pymongo's async driver."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from adapters.mongo.documents import (
    PUBLIC,
    STATE,
    VERSION,
    TeleconsultationDocument,
)
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.mapping import (
    fields_to_set,
    object_id,
    to_document,
    to_domain,
)
from adapters.object_ids import unpredictable_object_id
from application.errors import ConcurrentUpdate, NotFound
from application.ports import Clock, TeleconsultationRepository
from domain.teleconsultation import Teleconsultation


class MongoTeleconsultationRepository(TeleconsultationRepository):
    """Teleconsultations in a CRUD-shaped collection, with optimistic concurrency on `version`.

    A save is one conditional update on `_id` + `version` + `__STATE__: PUBLIC`. When it matches
    nothing, a second read decides the error: ConcurrentUpdate while the document exists, live at
    another version or trashed since it was read (a concurrent delete won: the loser learns that
    someone else changed it first), NotFound when it was never stored. Adding an id that already
    exists raises ConcurrentUpdate. A malformed id names nothing: NotFound.
    """

    def __init__(self, model: type[TeleconsultationDocument], clock: Clock) -> None:
        self._model = model
        self._clock = clock

    async def next_id(self) -> str:
        return unpredictable_object_id()

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
            exists = await collection.count_documents({"_id": oid}, limit=1) > 0
        raise ConcurrentUpdate(teleconsultation.id) if exists else NotFound(teleconsultation.id)
