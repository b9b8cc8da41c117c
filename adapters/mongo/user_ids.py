"""The user-id map in MongoDB: reservations and mappings in one CRUD collection, keyed by receivedUserId."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from adapters.mongo.documents import UserIdMapDocument
from adapters.mongo.errors import refused_as_duplicates, translate_store_errors
from adapters.mongo.legacy import upgrade_user_mapping
from adapters.mongo.mapping import as_bson_datetime, completed_fields, mapping_to_domain, reservation_document
from application.dto import UserMapping
from application.errors import ReservationLost, StoredDocumentUnreadable, UserCreationInProgress
from application.ports import Clock, UserIdMap

RECEIVED = "receivedUserId"
# The name of receivedUserId before the original's 1.2.0.
LEGACY_RECEIVED = "auth0Id"
PROVIDER_USER = "bandyerId"
RESERVED_BY = "reservedBy"
RESERVED_UNTIL = "reservedUntil"
# A reservation that vanishes between two steps (its holder gave up) is retried; more turns than that is a crowd.
_RESERVE_TURNS = 3


def _key_of(row: Mapping[str, Any]) -> object:
    """The external id of a row: receivedUserId, or the pre-1.2.0 `auth0Id` when it has none."""
    key = row.get(RECEIVED)
    return row.get(LEGACY_RECEIVED) if key is None else key


def _oldest_first(row: Mapping[str, Any]) -> tuple[bool, str]:
    """Sorts ObjectIds by age (their hex does), and anything else after them without ever failing."""
    row_id = row["_id"]
    return (not isinstance(row_id, ObjectId), str(row_id))


class MongoUserIdMap(UserIdMap):
    """Mappings and reservations; the same protocol holds with or without the unique index on receivedUserId.

    The original may have left several rows for one id (its collection had no unique index), so the index is
    created only once the data allows it (`migrate`). Until then every lookup uses the oldest row (lowest `_id`)
    holding a provider user, and a reservation is kept only when, once inserted, it is the sole row of its id; a
    reservation taken over after it ran out, only while it is the oldest row of its id. Of two creators racing,
    each sees the other's row, so at most one goes on. (A row's id is its receivedUserId, or its `auth0Id` when
    it has none, as `find` reads it.) With the index, a second insert fails outright; the check
    after insert then only finds a row keyed by `auth0Id` (the index allows one row without receivedUserId).
    `unique_index` says whether the index was there when the store was opened (the service creates it at
    start-up, and nothing in the service ever drops it): with it, every lookup is an index lookup.

    `find` ignores the CRUD state: the unique index spans every state, so a mapping that could block a
    reservation must also be visible to `find`, or the caller could never make progress.
    """

    def __init__(self, model: type[UserIdMapDocument], clock: Clock, *, unique_index: bool = False) -> None:
        self._model = model
        self._clock = clock
        self._unique_index = unique_index

    async def find(self, received_user_id: str) -> UserMapping | None:
        return (await self.find_many([received_user_id])).get(received_user_id)

    async def find_many(self, received_user_ids: Collection[str]) -> dict[str, UserMapping]:
        if not received_user_ids:
            return {}
        wanted = set(received_user_ids)
        with translate_store_errors():
            rows = await self._rows(wanted, {PROVIDER_USER: {"$ne": None}})
            found: dict[str, UserMapping] = {}
            for row in rows:
                try:
                    upgraded = upgrade_user_mapping(row)
                except StoredDocumentUnreadable:
                    continue  # matched by neither key: cannot be one of the wanted ids
                mapping = mapping_to_domain(self._model.model_validate(upgraded.document))
                if mapping.received_user_id in wanted:
                    found.setdefault(mapping.received_user_id, mapping)  # the oldest row wins
        return found

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
                reservation = reservation_document(received_user_id, owner, now=now, until=until)
                try:
                    await collection.insert_one(reservation)
                    if not await self._not_alone([received_user_id]):
                        return None
                    await collection.delete_one({"_id": reservation["_id"]})  # another row came first
                except DuplicateKeyError:
                    pass  # the id is taken; the driver's message (which quotes it) is dropped
                held = await collection.find_one_and_update(takeover, {"$set": lease}, projection={"_id": 1})
                if held is not None:
                    if await self._is_oldest(received_user_id, held["_id"]):
                        return None
                    await self.abandon(received_user_id, owner)
                mapping = await self.find(received_user_id)
                if mapping is not None:
                    return mapping
                if await self._rows([received_user_id], projection={"_id": 1}):
                    raise UserCreationInProgress
        raise UserCreationInProgress

    async def reserve_new(
        self, received_user_ids: Collection[str], owner: str, *, now: datetime, until: datetime
    ) -> set[str]:
        rows = {
            user_id: reservation_document(user_id, owner, now=now, until=until) for user_id in set(received_user_ids)
        }
        if not rows:
            return set()
        collection = self._model.get_pymongo_collection()
        ids = list(rows)
        with translate_store_errors():
            try:
                await collection.insert_many([rows[user_id] for user_id in ids], ordered=False)
            except BulkWriteError as error:
                for taken in refused_as_duplicates(error):  # the id already has a row
                    del rows[ids[taken]]
            if rows:
                crowded = await self._not_alone(rows)
                if crowded:  # another row came first: back off, as `reserve` does for one id
                    await collection.delete_many({"_id": {"$in": [rows.pop(user_id)["_id"] for user_id in crowded]}})
        return set(rows)

    async def _not_alone(self, received_user_ids: Collection[str]) -> set[str]:
        """Those of the ids with more than one row, in one look (the check after insert)."""
        wanted = set(received_user_ids)
        rows = Counter(_key_of(row) for row in await self._rows(wanted, projection={"_id": 1}))
        return {user_id for user_id in wanted if rows[user_id] != 1}

    async def _is_oldest(self, received_user_id: str, row_id: ObjectId) -> bool:
        rows = await self._rows([received_user_id], projection={"_id": 1})
        return bool(rows) and rows[0]["_id"] == row_id

    async def _rows(
        self,
        received_user_ids: Collection[str],
        also: Mapping[str, Any] | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The rows of these external ids that also match `also`, oldest first, in one query.

        With the unique index it is an index lookup: the index allows one row at most without receivedUserId, and
        looking up the null key alongside the ids finds it (the embedded store uses no index under `$or`). Without
        the index the collection is scanned either way.
        """
        ids = list(received_user_ids)
        if self._unique_index:
            keys: dict[str, Any] = {RECEIVED: {"$in": [*ids, None]}}
        else:
            keys = {"$or": [{RECEIVED: {"$in": ids}}, {RECEIVED: None, LEGACY_RECEIVED: {"$in": ids}}]}
        wanted = set(ids)
        projected = None if projection is None else {**projection, RECEIVED: 1, LEGACY_RECEIVED: 1}
        rows = self._model.get_pymongo_collection().find({**keys, **(also or {})}, projected)
        return sorted([row async for row in rows if _key_of(row) in wanted], key=_oldest_first)

    async def complete(self, mapping: UserMapping, owner: str) -> None:
        held, change = self._completion(mapping, owner, self._clock.now())
        with translate_store_errors():
            result = await self._model.get_pymongo_collection().update_one(held, change)
        if result.matched_count != 1:
            raise ReservationLost("the reservation of the external user id was taken over")

    async def complete_all(self, mappings: Collection[UserMapping], owner: str) -> set[str]:
        if not mappings:
            return set()
        now = self._clock.now()
        changes = [UpdateOne(*self._completion(mapping, owner, now)) for mapping in mappings]
        collection = self._model.get_pymongo_collection()
        with translate_store_errors():
            result = await collection.bulk_write(changes, ordered=False)
            if result.matched_count == len(changes):
                return set()
            # Which ones: those whose row now holds the provider user just created for it.
            wanted = {mapping.received_user_id: mapping.provider_user_id for mapping in mappings}
            rows = collection.find({RECEIVED: {"$in": list(wanted)}}, {RECEIVED: 1, PROVIDER_USER: 1})
            completed = {row[RECEIVED] async for row in rows if row.get(PROVIDER_USER) == wanted[row[RECEIVED]]}
        return set(wanted) - completed

    def _completion(self, mapping: UserMapping, owner: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
        held = {RECEIVED: mapping.received_user_id, RESERVED_BY: owner, PROVIDER_USER: None}
        change = {
            "$set": completed_fields(mapping, now=now),
            "$unset": {RESERVED_BY: "", RESERVED_UNTIL: ""},
        }
        return held, change

    async def abandon(self, received_user_id: str, owner: str) -> None:
        held = {RECEIVED: received_user_id, RESERVED_BY: owner, PROVIDER_USER: None}
        with translate_store_errors():
            await self._model.get_pymongo_collection().delete_one(held)
