"""The in-memory event log, with the contract of the MongoDB one (tests/store/test_events_contract.py)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime

from application.events import Event, EventQuery
from application.ports import EventLog


class InMemoryEventLog(EventLog):
    """Events in the order they were logged; a page position is the log's own sequence number."""

    def __init__(self) -> None:
        self._events: dict[str, tuple[int, Event]] = {}
        self._sequence = itertools.count(1)

    async def append(self, event: Event) -> bool:
        await asyncio.sleep(0)
        if event.id in self._events:
            return False
        stored = Event(
            event.id,
            _to_millisecond(event.at),
            event.type,
            event.teleconsultation_id,
            event.actor,
            event.outcome,
            event.request_id,
        )
        self._events[event.id] = (next(self._sequence), stored)
        return True

    async def append_all(self, events: Sequence[Event]) -> set[str]:
        return {event.id for event in events if await self.append(event)}

    async def contains(self, event_id: str) -> bool:
        await asyncio.sleep(0)
        return event_id in self._events

    async def query(self, query: EventQuery, limit: int, after: str | None = None) -> tuple[list[Event], str | None]:
        await asyncio.sleep(0)
        before = int(after) if after is not None and after.isdigit() else None
        matching = sorted(
            (
                (position, event)
                for position, event in self._events.values()
                if (before is None or position < before) and _matches(event, query)
            ),
            key=lambda entry: entry[0],
            reverse=True,
        )
        page = matching[: max(limit, 0)]
        more = len(matching) > len(page) and page
        return [event for _, event in page], str(page[-1][0]) if more else None


def _matches(event: Event, query: EventQuery) -> bool:
    return (
        (query.teleconsultation_id is None or event.teleconsultation_id == query.teleconsultation_id)
        and (query.actor is None or event.actor == query.actor)
        and (query.type is None or event.type == query.type)
        and (query.since is None or event.at >= _to_millisecond(query.since))
        and (query.until is None or event.at < _to_millisecond(query.until))
    )


def _to_millisecond(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
