"""POST /teleconsultation with an Idempotency-Key: a retried request gets the first answer, not a second room."""

from __future__ import annotations

import hashlib
import logging
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from application.authorization import Action, AuthorizationPolicy
from application.create_teleconsultation import CreateTeleconsultation, CreateTeleconsultationCommand
from application.errors import StoreUnavailable
from application.ports import Clock, IdempotencyRecords

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A key as the client sent it, who sent it (their user id, or "" when unknown), and a hash of the body."""

    value: str
    scope: str
    fingerprint: str

    def record_key(self) -> str:
        """What the store keeps: a hash, so that neither the key nor the sender's id is stored."""
        scoped = f"{len(self.scope)}:{self.scope}{self.value}"
        return hashlib.sha256(scoped.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Created:
    teleconsultation_id: str
    replayed: bool = False  # the answer of an earlier request with the same key


class IdempotentCreateTeleconsultation:
    """Runs CreateTeleconsultation at most once per key and body while the key lives (`ttl` from its first use).

    The same key and body replay the first success; another body is IdempotencyKeyReused; a request while the
    first is still running is IdempotencyKeyInFlight. Only successes are kept: a failed attempt gives the key
    back, so that a retry that can succeed does. If the instance serving the first attempt dies, its hold on
    the key runs out after `lease`, which is longer than a creation may take. The policy is asked before the key is
    looked up, so that a first answer is never replayed to a requester who may not schedule.
    """

    def __init__(
        self,
        *,
        create: CreateTeleconsultation,
        records: IdempotencyRecords,
        clock: Clock,
        ttl: timedelta,
        policy: AuthorizationPolicy,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self._create = create
        self._policy = policy
        self._records = records
        self._clock = clock
        self._ttl = ttl
        self._lease = lease

    async def execute(self, command: CreateTeleconsultationCommand, key: IdempotencyKey | None) -> Created:
        if key is None:
            return Created(await self._create.execute(command))
        self._policy.authorize(Action.SCHEDULE, command.requester)
        record_key, attempt = key.record_key(), secrets.token_hex(8)
        now = self._clock.now()
        earlier = await self._records.begin(
            record_key, key.fingerprint, attempt, now=now, lease_until=now + self._lease, expires_at=now + self._ttl
        )
        if earlier is not None:
            return Created(earlier, replayed=True)
        try:
            teleconsultation_id = await self._create.execute(command)
        except BaseException:
            # If even this fails, the hold on the key runs out after `lease`.
            with suppress(StoreUnavailable):
                await self._records.release(record_key, attempt)
            raise
        try:
            await self._records.finish(record_key, attempt, teleconsultation_id)
        except StoreUnavailable:
            # The teleconsultation exists: answering with an error now would invite a retry that creates another.
            logger.warning("the outcome of an idempotent request could not be recorded")
        return Created(teleconsultation_id)
