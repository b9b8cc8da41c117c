"""`migrate` on MongoDB: the original's documents upgraded in place with conditional updates.

Each document is read, upgraded in memory (adapters/mongo/legacy.py), checked against today's document model,
and written back only if it is still as it was read (same `_id`, state and version), so a change the service
makes meanwhile wins and the document is simply read again. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import ValidationError
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from adapters.mongo.documents import STATE, VERSION, BoundDocuments
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.legacy import LIVE_STATES, Upgrade, upgrade_teleconsultation, upgrade_user_mapping
from adapters.mongo.mapping import as_bson_datetime
from adapters.mongo.repository import version_match
from adapters.mongo.user_id_index import INDEX_NAME, count_duplicates, describe, ensure_unique_index
from adapters.mongo.user_ids import PROVIDER_USER, RECEIVED, RESERVED_UNTIL
from application.dto import CollectionMigration
from application.errors import StoredDocumentUnreadable
from application.ports import Clock, LegacyDataMigration
from domain.privileges import PrivilegePolicy

Raw = dict[str, Any]
# A document changed by the service between the read and the write is read again; more turns than that is a crowd.
_TURNS = 3
DUPLICATES_SUFFIX = "_duplicates"


class MongoLegacyMigration(LegacyDataMigration):
    def __init__(self, documents: BoundDocuments, clock: Clock, privileges: PrivilegePolicy) -> None:
        self._documents = documents
        self._clock = clock
        self._privileges = privileges

    async def upgrade_teleconsultations(self, *, dry_run: bool) -> CollectionMigration:
        model = self._documents.teleconsultations
        collection = model.get_pymongo_collection()
        shapes: Counter[str] = Counter()
        ignored: Counter[str] = Counter()
        upgraded = current = scanned = 0
        left: list[str] = []
        with translate_store_errors():
            ids = [row["_id"] async for row in collection.find({}, projection={"_id": 1}).sort("_id", ASCENDING)]
            for document_id in ids:
                for _ in range(_TURNS):
                    raw = await collection.find_one({"_id": document_id})
                    if raw is None:
                        break  # deleted meanwhile: nothing to upgrade
                    if raw.get(STATE) not in LIVE_STATES:
                        ignored[f"state {raw.get(STATE)} (never read by the service)"] += 1
                        break
                    try:
                        upgrade = upgrade_teleconsultation(raw, self._privileges)
                        model.model_validate(upgrade.document)
                    except (StoredDocumentUnreadable, ValidationError) as error:
                        left.append(f"{document_id}: {_reason(error)}")
                        break
                    if not upgrade.shapes:
                        current += 1
                        break
                    if dry_run or await _write(collection, raw, upgrade):
                        shapes.update(str(shape) for shape in upgrade.shapes)
                        upgraded += 1
                        break
                else:
                    left.append(f"{document_id}: changed by the service on every attempt, run migrate again")
                scanned += 1
        return CollectionMigration(
            collection.name, scanned, dict(shapes), upgraded, current, dict(ignored), tuple(left)
        )

    async def upgrade_user_ids(self, *, dry_run: bool) -> CollectionMigration:
        model = self._documents.user_ids
        collection = model.get_pymongo_collection()
        shapes: Counter[str] = Counter()
        upgraded = current = 0
        left: list[str] = []
        notes: list[str] = []
        with translate_store_errors():
            rows = await collection.find({}).sort("_id", ASCENDING).to_list()
            keyed: list[Raw] = []
            for raw in rows:
                try:
                    upgrade = upgrade_user_mapping(raw)
                    model.model_validate(upgrade.document)
                except (StoredDocumentUnreadable, ValidationError) as error:
                    left.append(f"{raw['_id']}: {_reason(error)}")
                    continue
                keyed.append(upgrade.document)
                if not upgrade.shapes:
                    current += 1
                    continue
                changes = upgrade.changes(raw)
                if dry_run or (await collection.update_one(_unchanged(raw, changes), {"$set": changes})).matched_count:
                    shapes.update(str(shape) for shape in upgrade.shapes)
                    upgraded += 1
                else:
                    left.append(f"{raw['_id']}: changed by the service meanwhile, run migrate again")
            moved, busy = await self._resolve_duplicates(collection, keyed, dry_run=dry_run)
            if moved:
                shapes[
                    f"duplicate {RECEIVED} rows (the oldest kept, the others moved to {_duplicates_of(collection)})"
                ] = moved
            if busy:
                left.append(f"{busy} duplicate row(s) hold a running reservation: run migrate again in a minute")
            if dry_run:
                duplicates = await count_duplicates(collection)
                if duplicates.any:
                    notes.append(f"unique index {INDEX_NAME} blocked today by: {describe(duplicates)}")
            else:
                outcome = await ensure_unique_index(collection)
                if outcome.created:
                    notes.append(f"unique index {INDEX_NAME}: present")
                else:
                    left.append(f"unique index {INDEX_NAME} not created: {outcome.reason}")
        return CollectionMigration(
            collection.name, len(rows), dict(shapes), upgraded + moved, current, {}, tuple(left), tuple(notes)
        )

    async def _resolve_duplicates(
        self, collection: AsyncCollection[Raw], rows: list[Raw], *, dry_run: bool
    ) -> tuple[int, int]:
        """Keep, per external id, the row the service uses (the oldest with a provider user, else the oldest);
        move the others aside, never deleting a provider user id. Returns (moved, left because still reserved)."""
        by_id: dict[str, list[Raw]] = {}
        for row in rows:  # already oldest first
            by_id.setdefault(row[RECEIVED], []).append(row)
        now = as_bson_datetime(self._clock.now())
        moved = busy = 0
        aside = collection.database[_duplicates_of(collection)]
        for group in by_id.values():
            if len(group) < 2:
                continue
            kept = next((row for row in group if row.get(PROVIDER_USER) is not None), group[0])
            for row in group:
                if row is kept:
                    continue
                reserved_until = row.get(RESERVED_UNTIL)
                if row.get(PROVIDER_USER) is None and reserved_until is not None and reserved_until > now:
                    busy += 1
                    continue
                if not dry_run:
                    original = await collection.find_one({"_id": row["_id"]})
                    if original is None:
                        continue
                    await aside.replace_one({"_id": row["_id"]}, {**original, "duplicateOf": kept["_id"]}, upsert=True)
                    await collection.delete_one({"_id": row["_id"], **_same(original, PROVIDER_USER)})
                moved += 1
        return moved, busy


async def _write(collection: AsyncCollection[Raw], raw: Raw, upgrade: Upgrade) -> bool:
    changes = upgrade.changes(raw)
    match = {"_id": raw["_id"], STATE: raw.get(STATE), **version_match(raw.get(VERSION, 0))}
    result = await collection.update_one(match, {"$set": changes, "$inc": {VERSION: 1}})
    return result.matched_count == 1


def _unchanged(raw: Raw, changes: Raw) -> Raw:
    """Match the row only while the fields the upgrade sets are still as they were read."""
    match: Raw = {"_id": raw["_id"]}
    for name in changes:
        match.update(_same(raw, name))
    return match


def _same(raw: Raw, name: str) -> Raw:
    return {name: raw[name]} if name in raw else {name: {"$exists": False}}


def _duplicates_of(collection: AsyncCollection[Raw]) -> str:
    return f"{collection.name}{DUPLICATES_SUFFIX}"


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        # Field locations only: pydantic's messages quote the values.
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        return f"does not have today's shape once upgraded (fields: {', '.join(fields)})"
    return str(error)
