"""The user-id map in MongoDB: reservations and mappings in one CRUD collection, unique on receivedUserId."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from adapters.mongo.documents import UserIdMapDocument
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.mapping import as_bson_datetime, completed_fields, mapping_to_domain, reservation_document
from application.dto import UserMapping
from application.errors import ReservationLost, UserCreationInProgress
from application.ports import Clock, UserIdMap

RECEIVED = "receivedUserId"
PROVIDER_USER = "bandyerId"
RESERVED_BY = "reservedBy"
RESERVED_UNTIL = "reservedUntil"
# A reservation that vanishes between two steps (its holder gave up) is retried; more turns than that is a crowd.
_RESERVE_TURNS = 3


class MongoUserIdMap(UserIdMap):
    """The unique index on receivedUserId makes the first insert of a reservation the only one. Taking over a
    reservation that ran out, and completing one, are single conditional updates, atomic on one document.

    `find` ignores the CRUD state: the unique index spans every state, so a mapping that could block a
    reservation must also be visible to `find`, or the caller could never make progress.
    """

    def __init__(self, model: type[UserIdMapDocument], clock: Clock) -> None:
        self._model = model
        self._clock = clock

    async def find(self, received_user_id: str) -> UserMapping | None:
        with translate_store_errors():
            document = await self._model.find_one({RECEIVED: received_user_id, PROVIDER_USER: {"$ne": None}})
        return None if document is None else mapping_to_domain(document)

    async def find_many(self, received_user_ids: Collection[str]) -> dict[str, UserMapping]:
        if not received_user_ids:
            return {}
        query = {RECEIVED: {"$in": list(received_user_ids)}, PROVIDER_USER: {"$ne": None}}
        with translate_store_errors():
            documents = await self._model.find(query).to_list()
        mappings = (mapping_to_domain(document) for document in documents)
        return {mapping.received_user_id: mapping for mapping in mappings}

    async def reserve(self, received_user_id: str, owner: str, *, now: datetime, until: datetime) -> UserMapping | None:
        collection = self._model.get_pymongo_collection()
        takeover = {
            RECEIVED: received_user_id,
            PROVIDER_USER: None,
            "$or": [{RESERVED_UNTIL: {"$lte": as_bson_datetime(now)}}, {RESERVED_BY: owner}],
        }
        lease = {RESERVED_BY: owner, RESERVED_UNTIL: as_bson_datetime(until)}
        with translate_store_errors():
            for _ in range(_RESERVE_TURNS):
                try:
                    await collection.insert_one(reservation_document(received_user_id, owner, now=now, until=until))
                    return None
                except DuplicateKeyError:
                    pass  # the id is taken; the driver's message (which quotes it) is dropped
                if (await collection.update_one(takeover, {"$set": lease})).matched_count == 1:
                    return None
                document = await self._model.find_one({RECEIVED: received_user_id})
                if document is not None and document.provider_user_id is not None:
                    return mapping_to_domain(document)
                if document is not None:
                    raise UserCreationInProgress
        raise UserCreationInProgress

    async def complete(self, mapping: UserMapping, owner: str) -> None:
        held = {RECEIVED: mapping.received_user_id, RESERVED_BY: owner, PROVIDER_USER: None}
        change = {
            "$set": completed_fields(mapping, now=self._clock.now()),
            "$unset": {RESERVED_BY: "", RESERVED_UNTIL: ""},
        }
        with translate_store_errors():
            result = await self._model.get_pymongo_collection().update_one(held, change)
        if result.matched_count != 1:
            raise ReservationLost("the reservation of the external user id was taken over")

    async def abandon(self, received_user_id: str, owner: str) -> None:
        held = {RECEIVED: received_user_id, RESERVED_BY: owner, PROVIDER_USER: None}
        with translate_store_errors():
            await self._model.get_pymongo_collection().delete_one(held)
