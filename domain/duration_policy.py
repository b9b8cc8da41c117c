"""When a teleconsultation happens and how long its provider room may last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.errors import InvalidSchedule

MINIMUM_DURATION = timedelta(minutes=5)
# Kaleyra rooms last at most one day.
MAXIMUM_DURATION = timedelta(hours=24)
# Appointments lie in the Unix era (token times are non-negative) and end a year before the last date Python can
# hold, so every period added or subtracted later (the immutable period, a link's grace) stays representable.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
_OUT_OF_RANGE = f"must be between {EARLIEST:%Y-%m-%d} and {LATEST - timedelta(days=1):%Y-%m-%d}"
# What "locked since before the calendar began" means for a stored start so early that the immutable period reaches
# past year 1 (the original service stored whatever it was sent): the lock and the links are in force.
_FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
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
        _require_in_range(start, "start_date")
        if end is not None:
            _require_in_range(end, "end_date")
            return self.validated(Schedule(start, end))
        assert duration_seconds is not None
        if duration_seconds < 0:
            raise InvalidSchedule("duration_in_seconds must not be negative")
        if duration_seconds > self.maximum.total_seconds():
            raise InvalidSchedule(f"the duration must be at most {_human(self.maximum)}")
        end = start + timedelta(seconds=duration_seconds)  # cannot overflow: start is a year before LATEST
        _require_in_range(end, "the end (start_date plus duration_in_seconds)")
        return self.validated(Schedule(start, end))

    def moved(self, schedule: Schedule, start: datetime) -> Schedule:
        """The same appointment, to the microsecond as long, starting at `start`."""
        _require_in_range(start, "start_date")
        end = start + schedule.duration  # a stored duration is at most a day
        _require_in_range(end, "the end (start_date plus the appointment's duration)")
        return self.validated(Schedule(start, end))

    def validated(self, schedule: Schedule) -> Schedule:
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
    """`moment - span`, or the first instant there is when that falls before year 1."""
    try:
        return moment - span
    except OverflowError:
        return _FIRST_INSTANT


def _require_in_range(moment: datetime, name: str) -> None:
    """Also the one check of a time zone offset: a naive date cannot be compared with the bounds."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidSchedule(f"{name} must include a time zone offset")
    if not EARLIEST <= moment < LATEST:
        raise InvalidSchedule(f"{name} {_OUT_OF_RANGE}")


def _human(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"
