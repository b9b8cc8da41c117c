"""When a write counts as done: the write concern every collection of the store is opened with."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient, WriteConcern

MAJORITY = "majority"
JOURNALED = "journaled"
ACKNOWLEDGED = "acknowledged"
WRITE_CONCERNS = (MAJORITY, JOURNALED, ACKNOWLEDGED)

# Waiting for a majority has its own bound, below the socket timeout, so that a replica set missing its
# majority answers with a write-concern error (a 503) rather than a cut connection.
MAJORITY_TIMEOUT_MS = 5_000


async def resolve_write_concern(client: AsyncMongoClient[Any], choice: str) -> WriteConcern:
    """The write concern for `choice`, asking the server once whether it belongs to a replica set.

    - `majority`: journaled, and on a replica set (or behind mongos) acknowledged by a majority of its members;
      on a standalone server, where the majority is the server itself, journaled.
    - `journaled`: journaled on the server that took the write (the primary): a failover can roll it back.
    - `acknowledged`: applied in the server's memory: a crash of the store before its next journal flush
      or checkpoint loses it.
    """
    if choice == ACKNOWLEDGED:
        return WriteConcern(w=1, j=False)
    if choice == JOURNALED:
        return WriteConcern(w=1, j=True)
    if choice != MAJORITY:
        raise ValueError(f"the write concern must be one of {', '.join(WRITE_CONCERNS)}, not {choice!r}")
    if await _replicated(client):
        return WriteConcern(w="majority", j=True, wtimeout=MAJORITY_TIMEOUT_MS)
    return WriteConcern(w=1, j=True)


async def _replicated(client: AsyncMongoClient[Any]) -> bool:
    hello: dict[str, Any] = await client.admin.command("hello")
    return "setName" in hello or hello.get("msg") == "isdbgrid"
