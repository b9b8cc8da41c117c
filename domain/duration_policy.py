"""When a teleconsultation happens and how long its provider room may last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.errors import InvalidSchedule

MINIMUM_DURATION = timedelta(minutes=5)
# Kaleyra rooms last at most one day.
MAXIMUM_DURATION = timedelta(hours=24)
# What "locked since before the calendar began" means for a start so early that the immutable period reaches past
# year 1: the lock and the links are in force.
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_EXACTLY_ONE = "exactly one of end_date and duration_in_seconds must be provided"


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
            raise InvalidSchedule(_EXACTLY_ONE)
        if end is not None:
            return self.validated(Schedule(start, end))
        assert duration_seconds is not None
        if duration_seconds < 0:
            raise InvalidSchedule("duration_in_seconds must not be negative")
        return self.validated(Schedule(start, _later(start, timedelta(seconds=duration_seconds))))

    def moved(self, schedule: Schedule, start: datetime) -> Schedule:
        """The same appointment, to the microsecond as long, starting at `start`."""
        return self.validated(Schedule(start, _later(start, schedule.duration)))

    def validated(self, schedule: Schedule) -> Schedule:
        _require_aware(schedule.start, "start_date")
        _require_aware(schedule.end, "end_date")
        if schedule.end <= schedule.start:
            raise InvalidSchedule("end_date must be after start_date")
        if schedule.duration < self.minimum:
            raise InvalidSchedule(f"the duration must be at least {_human(self.minimum)}")
        if schedule.duration > self.maximum:
            raise InvalidSchedule(f"the duration must be at most {_human(self.maximum)}")
        return schedule

    def provider_duration_seconds(self, schedule: Schedule) -> int | None:
        """Seconds to give the provider room, or None for an unlimited room."""
        if self.unlimited:
            return None
        return int(schedule.duration.total_seconds())


def earlier(moment: datetime, span: timedelta) -> datetime:
    """`moment - span`, or the earliest instant there is when that falls before year 1."""
    try:
        return moment - span
    except OverflowError:
        return _EARLIEST


def _later(start: datetime, span: timedelta) -> datetime:
    try:
        return start + span
    except OverflowError:
        raise InvalidSchedule("the appointment must end before the year 10000") from None


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidSchedule(f"{name} must include a time zone offset")


def _human(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"
