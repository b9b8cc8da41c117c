"""GET /audit/events: the audit trail, for the groups in the configuration key `auditorGroups`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromQuery, QueryParameter

from application.audit import DEFAULT_PAGE, LARGEST_PAGE, ReadAuditEvents
from application.events import Event, EventQuery
from entrypoints.http.openapi import error_responses
from entrypoints.http.requester import RequesterReader


class AuditEvent(msgspec.Struct, frozen=True):
    id: str
    at: datetime
    type: str
    teleconsultationId: str | None
    actor: str
    outcome: str
    requestId: str | None


class AuditEventPage(msgspec.Struct, frozen=True):
    events: list[AuditEvent]
    nextCursor: str | None


def audit_event(event: Event) -> AuditEvent:
    return AuditEvent(
        id=event.id,
        at=event.at,
        type=event.type,
        teleconsultationId=event.teleconsultation_id,
        actor=event.actor,
        outcome=event.outcome,
        requestId=event.request_id,
    )


def audit_routes(*, read: ReadAuditEvents, requesters: RequesterReader) -> list[HTTPRouteHandler]:
    @get(
        "/audit/events",
        summary="The audit trail, newest first (auditors only)",
        description="Who created, changed or cancelled a teleconsultation, who was handed its link, and when. Ids "
        "and types only. Pass `nextCursor` as `cursor` for the next page; `since` is inclusive, `until` exclusive.",
        tags=["audit"],
        responses=error_responses(400, 401, 403, 503),
    )
    async def read_audit_events(
        *,
        request: Request[Any, Any, Any],
        teleconsultation_id: Annotated[str | None, QueryParameter(name="teleconsultationId", max_length=64)] = None,
        actor: Annotated[str | None, QueryParameter(max_length=256)] = None,
        event_type: Annotated[str | None, QueryParameter(name="type", max_length=64)] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=300)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=LARGEST_PAGE)] = DEFAULT_PAGE,
    ) -> AuditEventPage:
        query = EventQuery(
            teleconsultation_id=teleconsultation_id, actor=actor, type=event_type, since=since, until=until
        )
        page = await read.execute(await requesters.requester(request), query, cursor, limit)
        return AuditEventPage(events=[audit_event(e) for e in page.events], nextCursor=page.next_cursor)

    return [read_audit_events]
