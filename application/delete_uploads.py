"""DELETE /teleconsultation/{id}/uploads: remove the files participants shared during the call."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from application.errors import ProviderError
from application.ports import CallUploads, TeleconsultationRepository, VideoProvider
from application.provider_features import ProviderFeature, require_feature

logger = logging.getLogger(__name__)

# Enough to finish a typical call's files quickly without flooding the provider with parallel requests.
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class UploadsDeletion:
    """`total` files were found, `deleted` of them are gone; a difference means a retry is worthwhile."""

    total: int
    deleted: int


class DeleteCallUploads:
    """Deletes every file of the teleconsultation's current room, a few at a time.

    Returns None when deletion is disabled (nothing is done). A file that cannot be deleted is counted,
    not fatal, so a later call deletes what is left. Raises NotFound for an unknown id, ProviderUnsupported
    when the provider keeps no files, ProviderError when the files cannot even be listed.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        provider: VideoProvider,
        uploads: CallUploads,
        enabled: bool,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._repository = repository
        self._provider = provider
        self._uploads = uploads
        self._enabled = enabled
        self._concurrency = concurrency

    async def execute(self, teleconsultation_id: str) -> UploadsDeletion | None:
        if not self._enabled:
            return None
        require_feature(self._provider, ProviderFeature.UPLOADS)
        teleconsultation = await self._repository.get(teleconsultation_id)
        if teleconsultation.room_id is None:
            return UploadsDeletion(total=0, deleted=0)
        keys = list(dict.fromkeys(await self._uploads.list_uploads(teleconsultation.room_id)))
        deleted = await self._delete_all(keys)
        if deleted < len(keys):
            logger.warning("%d of %d call uploads could not be deleted", len(keys) - deleted, len(keys))
        return UploadsDeletion(total=len(keys), deleted=deleted)

    async def _delete_all(self, keys: list[str]) -> int:
        remaining = iter(keys)
        outcomes: list[bool] = []

        async def worker() -> None:
            # Workers share one iterator, so each key is taken exactly once and at most
            # `concurrency` deletions are in flight.
            for key in remaining:
                outcomes.append(await self._delete(key))

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self._concurrency, len(keys))):
                group.create_task(worker())
        return sum(outcomes)

    async def _delete(self, key: str) -> bool:
        try:
            await self._uploads.delete_upload(key)
        except ProviderError:
            return False
        return True
