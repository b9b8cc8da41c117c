"""Clocks: the system's UTC clock and a settable one for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.ports import Clock


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """Stands still until told otherwise, so tests can reason about exact instants."""

    def __init__(self, moment: datetime) -> None:
        self._moment = _aware(moment)

    def now(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        self._moment = _aware(moment)

    def advance(self, delta: timedelta) -> datetime:
        self._moment += delta
        return self._moment


def _aware(moment: datetime) -> datetime:
    # A naive instant is ambiguous; the Clock port promises aware datetimes.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    return moment.astimezone(UTC)
