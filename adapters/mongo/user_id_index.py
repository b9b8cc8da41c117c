"""The unique index on the user-id map's receivedUserId, which the original's data may not allow yet."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from adapters.mongo.errors import DUPLICATE_KEY_CODES, translate_store_errors
from adapters.mongo.user_ids import LEGACY_RECEIVED, RECEIVED

logger = logging.getLogger(__name__)

INDEX_NAME = f"{RECEIVED}_1"
# An index on the same key already exists with other options (e.g. one the CRUD service declared without unique).
_INDEX_CONFLICTS = frozenset({85, 86})


@dataclass(frozen=True, slots=True)
class Duplicates:
    """What keeps the unique index from being created: counts only, never the ids themselves."""

    ids: int  # external ids found on more than one row
    rows: int  # the rows of those ids
    unkeyed: int  # rows without receivedUserId (keyed by the pre-1.2.0 auth0Id): to the index, all the same key

    @property
    def any(self) -> bool:
        return self.ids > 0 or self.unkeyed > 1


@dataclass(frozen=True, slots=True)
class IndexOutcome:
    created: bool
    reason: str | None = None  # why it was not, when it was not


async def ensure_unique_index(collection: AsyncCollection[dict[str, Any]]) -> IndexOutcome:
    """Create the unique index if the rows allow it; otherwise say why (counts only) instead of failing."""
    with translate_store_errors():
        try:
            await collection.create_index([(RECEIVED, ASCENDING)], unique=True, name=INDEX_NAME)
            return IndexOutcome(created=True)
        except OperationFailure as error:
            if error.code in _INDEX_CONFLICTS:
                return IndexOutcome(
                    created=False,
                    reason=f"another index on {RECEIVED} exists without uniqueness (MongoDB code {error.code}); "
                    "drop it to let the unique one be created",
                )
            if error.code not in DUPLICATE_KEY_CODES:
                raise
        duplicates = await count_duplicates(collection)
    return IndexOutcome(created=False, reason=describe(duplicates))


async def count_duplicates(collection: AsyncCollection[dict[str, Any]]) -> Duplicates:
    keys: Counter[str] = Counter()
    unkeyed = 0
    async for row in collection.find({}, projection={RECEIVED: 1, LEGACY_RECEIVED: 1, "_id": 0}):
        key = row.get(RECEIVED)
        if isinstance(key, str):
            keys[key] += 1
        else:
            unkeyed += 1
    repeated = [count for count in keys.values() if count > 1]
    return Duplicates(ids=len(repeated), rows=sum(repeated), unkeyed=unkeyed)


def describe(duplicates: Duplicates) -> str:
    parts = []
    if duplicates.ids:
        parts.append(f"{duplicates.ids} external user id(s) appear on more than one row ({duplicates.rows} rows)")
    if duplicates.unkeyed > 1:
        parts.append(f"{duplicates.unkeyed} rows have no {RECEIVED} (keyed by the pre-1.2.0 {LEGACY_RECEIVED})")
    return "; ".join(parts) or "the rows changed while the index was being created"


async def index_at_start_up(collection: AsyncCollection[dict[str, Any]]) -> bool:
    """Whether the unique index is there, created if the data allows it; the service starts whatever the data:
    without the index the map still creates one provider user per id (user_ids.py)."""
    outcome = await ensure_unique_index(collection)
    if not outcome.created:
        logger.warning(
            f"collection {collection.name}: unique index {INDEX_NAME} not created: {outcome.reason}; each external "
            "user id uses its oldest row until `python -m entrypoints migrate` resolves this",
            extra={"collection": collection.name, "index": INDEX_NAME},
        )
    return outcome.created
