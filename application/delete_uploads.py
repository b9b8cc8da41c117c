"""DELETE /teleconsultation/{id}/uploads: remove the files participants shared during the call."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from application.authorization import Action, AuthorizationPolicy
from application.dto import Requester
from application.errors import ProviderError, ProviderUnsupported
from application.events import EventType, Journal
from application.ports import CallUploads, TeleconsultationRepository
from domain.teleconsultation import Teleconsultation

logger = logging.getLogger(__name__)

# Enough to finish a typical call's files quickly without flooding the provider with parallel requests.
DEFAULT_CONCURRENCY = 4
FEATURE = "in-call file uploads"


@dataclass(frozen=True, slots=True)
class UploadsDeletion:
    """`total` files were found, `deleted` of them are gone; a difference means a retry is worthwhile."""

    total: int
    deleted: int


class DeleteCallUploads:
    """Deletes every file of the teleconsultation's current room, a few at a time.

    Only a participant of the teleconsultation may (Unauthorized otherwise, before anything else is said). Returns
    None when deletion is disabled (nothing is done). A file that cannot be deleted is counted,
    not fatal, so a later call deletes what is left. Raises NotFound for an unknown id, ProviderUnsupported
    when the provider keeps no files (it offers no uploads port), ProviderError when the files cannot even be listed.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        uploads: CallUploads | None,
        provider_name: str,
        enabled: bool,
        policy: AuthorizationPolicy,
        journal: Journal,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._journal = journal
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._repository = repository
        self._uploads = uploads
        self._provider_name = provider_name
        self._enabled = enabled
        self._concurrency = concurrency
        self._policy = policy

    async def execute(self, teleconsultation_id: str, requester: Requester | None) -> UploadsDeletion | None:
        admitted = await self._policy.authorize_participant(
            Action.DELETE_UPLOADS, requester, lambda: self._repository.get(teleconsultation_id)
        )
        return await self._delete_uploads_of(admitted.teleconsultation)

    async def after_the_call(self, teleconsultation_id: str) -> UploadsDeletion | None:
        """The provider reported that the call ended (a verified webhook): the service deletes on its own behalf."""
        return await self._delete_uploads_of(await self._repository.get(teleconsultation_id))

    async def _delete_uploads_of(self, teleconsultation: Teleconsultation) -> UploadsDeletion | None:
        if not self._enabled:
            return None
        uploads = self._uploads
        if uploads is None:
            raise ProviderUnsupported(self._provider_name, FEATURE)
        if teleconsultation.provider_room_id is None:
            return UploadsDeletion(total=0, deleted=0)
        keys = list(dict.fromkeys(await uploads.list_uploads(teleconsultation.provider_room_id)))
        deleted = await self._delete_all(uploads, keys)
        if deleted < len(keys):
            logger.warning("%d of %d call uploads could not be deleted", len(keys) - deleted, len(keys))
        if deleted:
            outcome = "success" if deleted == len(keys) else "partial"
            event = self._journal.event(EventType.UPLOADS_DELETED, teleconsultation.id, outcome=outcome)
            await self._journal.record(event)
        return UploadsDeletion(total=len(keys), deleted=deleted)

    async def _delete_all(self, uploads: CallUploads, keys: list[str]) -> int:
        remaining = iter(keys)
        outcomes: list[bool] = []

        async def worker() -> None:
            # Workers share one iterator, so each key is taken exactly once and at most
            # `concurrency` deletions are in flight.
            for key in remaining:
                outcomes.append(await _delete(uploads, key))

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self._concurrency, len(keys))):
                group.create_task(worker())
        return sum(outcomes)


async def _delete(uploads: CallUploads, key: str) -> bool:
    try:
        await uploads.delete_upload(key)
    except ProviderError:
        return False
    return True
