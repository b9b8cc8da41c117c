"""TeleconsultationChanges over a MongoDB change stream on the teleconsultations collection.

Change streams need a replica set or a mongos (the embedded store is a one-member replica set); a standalone
mongod refuses them, which `follow` reports by returning at once. Only the document key of each change is asked
for: no document, no update description ever reaches this process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

import pymongo
from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure, PyMongoError

from application.cancellation import stop_if_cancelled
from application.ports import ChangeListener

logger = logging.getLogger(__name__)

# What a standalone mongod answers `$changeStream` with (IllegalOperation, "only supported on replica sets").
CHANGE_STREAMS_UNSUPPORTED = 40573
# The writes that change what `get` reads: a trashed teleconsultation is an update (or a removal).
WATCHED = ("insert", "update", "replace", "delete")
PIPELINE: list[Mapping[str, Any]] = [
    {"$match": {"operationType": {"$in": list(WATCHED)}}},
    {"$project": {"documentKey._id": 1}},  # the change's own `_id` is its resume token, always kept
]


class MongoTeleconsultationChanges:
    """Follows the collection's change stream, resuming it where it stopped after a transient failure.

    A failure (the store went away, a timeout) is retried with a backoff that starts at `backoff_seconds` and
    doubles up to `max_backoff_seconds`, resuming after the last change told of; when the store refuses to
    resume there (its history no longer reaches back that far, or it no longer knows the token: a store
    started afresh), a new stream is opened and the listener hears that writes may have been missed.
    """

    def __init__(
        self,
        collection: AsyncCollection[Any],
        *,
        backoff_seconds: float = 0.05,
        max_backoff_seconds: float = 2.0,
        close_seconds: float = 1.0,
    ) -> None:
        if not 0 < backoff_seconds <= max_backoff_seconds:
            raise ValueError("backoffs must satisfy 0 < initial <= max")
        self._collection = collection
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._close_seconds = close_seconds

    async def follow(self, listener: ChangeListener) -> None:
        token: Mapping[str, Any] | None = None  # where to resume; None: open a new stream
        delay = self._backoff
        failing = False
        while True:
            stop_if_cancelled()
            stream: AsyncChangeStream[Any] | None = None
            try:
                stream = await self._collection.watch(PIPELINE, resume_after=token)
                if token is None:
                    listener.missed()
                if failing:
                    logger.info("the store's change stream is followed again", extra={"resumed": token is not None})
                listener.following(True)
                failing, delay = False, self._backoff
                while stream.alive:
                    change = await stream.try_next()
                    stop_if_cancelled()
                    token = stream.resume_token
                    if change is not None:
                        listener.changed(str(change["documentKey"]["_id"]))
                # A closed stream (the collection was dropped or renamed: an invalidate event) cannot be resumed:
                # a new one is opened, after a pause so that a stream closed at once every time is no busy loop.
                token = None
                listener.following(False)
                delay = await self._wait(delay)
            except OperationFailure as error:
                stop_if_cancelled()
                listener.following(False)
                if error.code == CHANGE_STREAMS_UNSUPPORTED:
                    return
                if token is not None:
                    # Refused where it stopped: start afresh at once (the listener hears of the gap).
                    logger.warning(
                        "the store's change stream could not be resumed; following it afresh",
                        extra={"code": error.code},
                    )
                    token = None
                    continue
                failing = self._log_failure(error, failing)
                delay = await self._wait(delay)
            except PyMongoError as error:
                stop_if_cancelled()
                listener.following(False)
                if stream is not None and stream.resume_token is not None:
                    token = stream.resume_token
                failing = self._log_failure(error, failing)
                delay = await self._wait(delay)
            finally:
                if stream is not None:
                    await self._close(stream)

    def _log_failure(self, error: PyMongoError, failing: bool) -> bool:
        if not failing:  # once per outage, not once per attempt
            logger.warning(
                "the store's change stream was lost; resuming it",
                extra={"error": type(error).__name__, "code": getattr(error, "code", None)},
            )
        return True

    async def _wait(self, delay: float) -> float:
        await asyncio.sleep(delay)
        return min(delay * 2, self._max_backoff)

    async def _close(self, stream: AsyncChangeStream[Any]) -> None:
        # Closing kills the server's cursor: bounded, since the store may be down by then.
        with suppress(PyMongoError), pymongo.timeout(self._close_seconds):
            await stream.close()
