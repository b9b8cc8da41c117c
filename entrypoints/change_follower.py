"""The store's change feed followed beside the service, so that other instances' writes leave the cache at once.

Every process that serves HTTP has its own cache, so its own follower. The cache's time to live stays the ceiling
whatever the feed does: a feed that is slow, silent or down only leaves the cache as it would be without one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Protocol

from application.cancellation import stop_if_cancelled
from application.ports import TeleconsultationChanges
from application.teleconsultation_cache import CachedTeleconsultations
from entrypoints.background import in_background

logger = logging.getLogger(__name__)


class FollowerObserver(Protocol):
    """What the metrics hear of the follower."""

    def change_stream_live(self, live: bool) -> None: ...

    def change_stream_forgot(self) -> None: ...

    def change_stream_gap(self) -> None: ...

    def change_stream_crash(self) -> None: ...


class _CacheListener:
    """The ChangeListener the feed tells: each change forgets its id, a gap forgets everything."""

    def __init__(self, cache: CachedTeleconsultations, observer: FollowerObserver | None) -> None:
        self._cache = cache
        self._observer = observer
        self.was_live = False  # since the follower last started

    def changed(self, teleconsultation_id: str) -> None:
        self._cache.forget(teleconsultation_id)
        if self._observer is not None:
            self._observer.change_stream_forgot()

    def missed(self) -> None:
        self._cache.forget_all()
        if self._observer is not None:
            self._observer.change_stream_gap()

    def following(self, live: bool) -> None:
        self.was_live = self.was_live or live
        if self._observer is not None:
            self._observer.change_stream_live(live)


class ChangeFollower:
    """Runs `changes.follow` while the service runs, telling `cache`; started again if it fails.

    A failure is retried after `restart_seconds`, doubled after each failure in a row up to `max_restart_seconds`
    (a failure after the feed was live again starts from `restart_seconds`). Stopping waits `stop_seconds` at most
    for the feed to let go. Without a feed (the memory store) or without a cache (a zero `ttl`) nothing runs.
    Without change streams (a standalone MongoDB) one line says how long other instances' writes may take to
    show, and nothing runs.
    """

    def __init__(
        self,
        *,
        changes: TeleconsultationChanges | None,
        cache: CachedTeleconsultations,
        ttl: timedelta,
        observer: FollowerObserver | None = None,
        restart_seconds: float = 0.1,
        max_restart_seconds: float = 30.0,
        stop_seconds: float = 2.0,
    ) -> None:
        self._changes = changes
        self._ttl = ttl
        self._observer = observer
        self._listener = _CacheListener(cache, observer)
        self._restart = restart_seconds
        self._max_restart = max_restart_seconds
        self._stop_seconds = stop_seconds

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self._changes is None or not self._ttl:
            yield
            return
        # Its stop is bounded more tightly than other background work's: the driver, cancelled inside an operation,
        # has been seen to take seconds to let go, and a stopping service must not wait on its cache's helper.
        async with in_background(
            self._follow_forever(self._changes), "change-follower", stop_seconds=self._stop_seconds
        ):
            yield

    async def _follow_forever(self, changes: TeleconsultationChanges) -> None:
        delay = self._restart
        while True:
            self._listener.was_live = False
            try:
                await changes.follow(self._listener)
            except Exception:
                stop_if_cancelled()  # asked to stop, whatever the feed raised meanwhile
                # A bug must not end the service, nor leave the cache deaf for good: start again (the feed
                # opens afresh, which forgets the whole cache).
                logger.exception("following the store's changes failed unexpectedly; starting again")
                self._listener.following(False)
                if self._observer is not None:
                    self._observer.change_stream_crash()
                delay = self._restart if self._listener.was_live else delay
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_restart)
                continue
            logger.info(
                "the store offers no change streams: other instances' writes show within "
                "ROOM_DETAILS_CACHE_SECONDS (%g s)",
                self._ttl.total_seconds(),
            )
            return
