"""RETENTION_DAYS: what is left of a teleconsultation once that long has passed since it ended or was cancelled.

Its participants' names, links and groups are removed and its provider uploads deleted; its events stay (they
hold no personal data). A teleconsultation whose uploads cannot all be deleted keeps its data until a later sweep
manages. The sweeper runs this (and so does `make sweep`); the service itself is the actor of the
`teleconsultation.purged` event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.errors import ProviderError
from application.events import EventType, Journal
from application.ports import CallUploads, Clock, RetentionStore

logger = logging.getLogger(__name__)

BATCH = 100


@dataclass(frozen=True, slots=True)
class Retained:
    teleconsultation_id: str
    room_id: str | None  # the provider room its uploads are in, when it still names one


class ApplyRetention:
    def __init__(
        self,
        *,
        store: RetentionStore,
        uploads: CallUploads | None,
        journal: Journal,
        clock: Clock,
        retention: timedelta | None,
    ) -> None:
        self._store = store
        self._uploads = uploads
        self._journal = journal
        self._clock = clock
        self._retention = retention

    async def execute(self, limit: int = BATCH) -> int:
        """Purge what is due (up to `limit`); how many teleconsultations were purged. Nothing without a period."""
        if self._retention is None:
            return 0
        cutoff = self._clock.now() - self._retention
        purged = 0
        for item in await self._store.due_for_purge(ended_before=cutoff, cancelled_before=cutoff, limit=limit):
            if not await self._uploads_deleted(item):
                continue
            event = self._journal.event(EventType.TELECONSULTATION_PURGED, item.teleconsultation_id)
            if await self._store.purge(item.teleconsultation_id, event):
                purged += 1
                await self._journal.relay_quietly(item.teleconsultation_id)
        if purged:
            logger.info("personal data removed after the retention period", extra={"purged": purged})
        return purged

    async def _uploads_deleted(self, item: Retained) -> bool:
        uploads = self._uploads
        if uploads is None or item.room_id is None:
            return True
        try:
            keys = await uploads.list_uploads(item.room_id)
            for key in dict.fromkeys(keys):
                await uploads.delete_upload(key)
        except ProviderError as error:
            logger.warning("uploads kept past the retention period could not be deleted yet: %s", error)
            return False
        return True
