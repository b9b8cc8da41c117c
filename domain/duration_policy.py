"""When a teleconsultation happens and how long its provider room may last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import InvalidSchedule

MINIMUM_DURATION = timedelta(minutes=5)
# Kaleyra rooms last at most one day.
MAXIMUM_DURATION = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Schedule:
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class DurationPolicy:
    """Validates appointment durations; `unlimited` rooms get no provider-side duration."""

    unlimited: bool = True
    minimum: timedelta = MINIMUM_DURATION
    maximum: timedelta = MAXIMUM_DURATION

    def schedule(
        self,
        start: datetime,
        *,
        end: datetime | None = None,
        duration_seconds: int | None = None,
    ) -> Schedule:
        """Build a schedule from a start plus exactly one of an end or a duration."""
        if (end is None) == (duration_seconds is None):
            raise InvalidSchedule("exactly one of end_date and duration_in_seconds must be provided")
        _require_aware(start, "start_date")
        if end is not None:
            _require_aware(end, "end_date")
            return self.validated(Schedule(start, end))
        assert duration_seconds is not None  # noqa: S101 - narrowed by the check above
        if not self.minimum.total_seconds() <= duration_seconds <= self.maximum.total_seconds():
            raise InvalidSchedule(self._bounds_message())
        return Schedule(start, start + timedelta(seconds=duration_seconds))

    def validated(self, schedule: Schedule) -> Schedule:
        if not self.minimum <= schedule.duration <= self.maximum:
            raise InvalidSchedule(self._bounds_message())
        return schedule

    def provider_duration_seconds(self, schedule: Schedule) -> int | None:
        """Seconds to give the provider room, or None for an unlimited room."""
        if self.unlimited:
            return None
        return int(schedule.duration.total_seconds())

    def _bounds_message(self) -> str:
        return (
            f"duration must be between {int(self.minimum.total_seconds())} "
            f"and {int(self.maximum.total_seconds())} seconds"
        )


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidSchedule(f"{name} must include a time zone offset")
