"""In-memory idempotency records with the same contract as the MongoDB ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from application.ports import IdempotencyRecords


@dataclass(frozen=True, slots=True)
class _Record:
    fingerprint: str
    owner: str
    lease_until: datetime
    expires_at: datetime
    result: str | None = None


class InMemoryIdempotencyRecords(IdempotencyRecords):
    """Expired records are only dropped when their key comes back: the fake is for tests and demos."""

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}

    async def begin(
        self, key: str, fingerprint: str, owner: str, *, now: datetime, lease_until: datetime, expires_at: datetime
    ) -> str | None:
        record = self._records.get(key)
        if record is None or record.expires_at <= now or (record.result is None and record.lease_until <= now):
            self._records[key] = _Record(fingerprint, owner, lease_until, expires_at)
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused
        if record.result is None:
            raise IdempotencyKeyInFlight
        return record.result

    async def finish(self, key: str, owner: str, result: str) -> None:
        record = self._records.get(key)
        if record is not None and record.owner == owner and record.result is None:
            self._records[key] = _Record(record.fingerprint, owner, record.lease_until, record.expires_at, result)

    async def release(self, key: str, owner: str) -> None:
        record = self._records.get(key)
        if record is not None and record.owner == owner and record.result is None:
            del self._records[key]
