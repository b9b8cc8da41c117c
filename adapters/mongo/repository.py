"""MongoDB adapters of the persistence ports, through beanie documents and pymongo's async driver."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from adapters.mongo.documents import (
    STATE,
    VERSION,
    TeleconsultationDocument,
)
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.events import OUTBOX, PURGED, outbox_entry
from adapters.mongo.legacy import LIVE_STATES, UNKNOWN_WRITER, upgrade_teleconsultation
from adapters.mongo.mapping import (
    fields_to_set,
    object_id,
    to_document,
    to_domain,
)
from adapters.object_ids import unpredictable_object_id
from application.errors import ConcurrentUpdate, NotFound, StoredDocumentUnreadable
from application.events import Event
from application.ports import Clock, TeleconsultationRepository
from domain.privileges import PrivilegePolicy
from domain.teleconsultation import Teleconsultation

logger = logging.getLogger(__name__)

# Without a configuration every participant stored without a privilege reads as basic (the least).
NO_PRIVILEGES = PrivilegePolicy(basic_groups=frozenset(), plus_groups=frozenset())
_LIVE = {"$in": list(LIVE_STATES)}


def version_match(version: int) -> dict[str, Any]:
    """The filter matching a document still at `version`: 0 is a document never written by this service, which
    has no version field at all."""
    return {VERSION: {"$exists": False}} if version == 0 else {VERSION: version}


class MongoTeleconsultationRepository(TeleconsultationRepository):
    """Teleconsultations in a CRUD-shaped collection, with optimistic concurrency on `version`.

    Every shape the original service stored is read (adapters/mongo/legacy.py) and upgraded to today's by the
    next save. A save is one conditional update on `_id` + `version` + a live `__STATE__` (`PUBLIC`, or the
    original's `DRAFT`). When it matches nothing, a second read decides the error: ConcurrentUpdate while the
    document exists, live at another version or trashed since it was read (a concurrent delete won: the loser
    learns that someone else changed it first), NotFound when it was never stored. Adding an id that already
    exists raises ConcurrentUpdate. A malformed id names nothing: NotFound.
    """

    def __init__(
        self, model: type[TeleconsultationDocument], clock: Clock, privileges: PrivilegePolicy = NO_PRIVILEGES
    ) -> None:
        self._model = model
        self._clock = clock
        self._privileges = privileges

    async def next_id(self) -> str:
        return unpredictable_object_id()

    async def get(self, teleconsultation_id: str) -> Teleconsultation:
        oid = object_id(teleconsultation_id)
        if oid is None:
            raise NotFound(teleconsultation_id)
        with translate_store_errors():
            raw = await self._model.get_pymongo_collection().find_one({"_id": oid, STATE: _LIVE})
        if raw is None:
            raise NotFound(teleconsultation_id)
        try:
            upgrade = upgrade_teleconsultation(raw, self._privileges)
        except StoredDocumentUnreadable as error:
            # Ids and field names only: the document itself may hold personal data.
            logger.error(
                "a stored teleconsultation cannot be read",
                extra={"document_id": error.document_id, "field": error.field},
            )
            raise
        with translate_store_errors():
            document = self._model.model_validate(upgrade.document)
        return to_domain(document)

    async def add(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        document = to_document(teleconsultation, self._model, now=self._clock.now(), version=1, writer_id=actor_id)
        with translate_store_errors():
            try:
                if events:
                    # The events go in with the document itself: one insert, both or neither.
                    raw = {
                        **document.model_dump(by_alias=True, exclude={"revision_id"}),
                        OUTBOX: [outbox_entry(e) for e in events],
                    }
                    await self._model.get_pymongo_collection().insert_one(raw)
                else:
                    await document.insert()
            except DuplicateKeyError:
                raise ConcurrentUpdate(teleconsultation.id) from None
        teleconsultation.version = 1

    async def save(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        oid = object_id(teleconsultation.id)
        if oid is None:
            raise NotFound(teleconsultation.id)
        changes = fields_to_set(to_document(teleconsultation, self._model, now=self._clock.now(), writer_id=actor_id))
        collection = self._model.get_pymongo_collection()
        live = {"_id": oid, STATE: _LIVE}
        with translate_store_errors():
            result = await collection.update_one(
                {**live, **version_match(teleconsultation.version)},
                {
                    "$set": changes,
                    "$inc": {VERSION: 1},
                    # A change stores the participants' data anew: retention must look at it again.
                    "$unset": {PURGED: ""},
                    # The change's events, in the same conditional update: written exactly when the change is.
                    **({"$push": {OUTBOX: {"$each": [outbox_entry(e) for e in events]}}} if events else {}),
                },
            )
            if result.matched_count == 1:
                if teleconsultation.version == 0:
                    await _fill_in_creation(collection, oid)
                teleconsultation.version += 1
                return
            exists = await collection.count_documents({"_id": oid}, limit=1) > 0
        raise ConcurrentUpdate(teleconsultation.id) if exists else NotFound(teleconsultation.id)


async def _fill_in_creation(collection: Any, oid: ObjectId) -> None:
    """The first save of a document the original wrote: a save never rewrites who created it and when, so these
    are added only where the original stored none (idempotent, and harmless to run alongside `migrate`)."""
    for field, value in (("createdAt", oid.generation_time), ("creatorId", UNKNOWN_WRITER)):
        await collection.update_one({"_id": oid, field: {"$exists": False}}, {"$set": {field: value}})
