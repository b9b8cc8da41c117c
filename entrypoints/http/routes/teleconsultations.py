"""POST, PATCH, GET and DELETE /teleconsultation: body -> command -> use case -> body.

`roomId` is what the API calls a teleconsultation's id (the original's CRUD `_id`); it is never the provider's room.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, Router, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, QueryParameter
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from application.create_teleconsultation import CreateTeleconsultationCommand
from application.delete_teleconsultation import DeleteTeleconsultation
from application.dto import ParticipantInput, Requester, RosterInput
from application.get_teleconsultation import GetTeleconsultationAccess, ParticipantAccess
from application.idempotent_creation import IdempotencyKey, IdempotentCreateTeleconsultation
from application.join_links import LinkPreferences
from application.update_teleconsultation import UpdateTeleconsultation, UpdateTeleconsultationCommand
from entrypoints.http import limits
from entrypoints.http.bodies import json_body_route, required_json_body
from entrypoints.http.idempotency import HEADER, fingerprint, parse_key
from entrypoints.http.openapi import error_responses
from entrypoints.http.requester import RequesterReader
from entrypoints.http.schemas import (
    CallParticipant,
    CreatedTeleconsultation,
    CreateTeleconsultationBody,
    Participants,
    ParticipantsBody,
    TeleconsultationAccessBody,
    UpdateTeleconsultationBody,
    room_details_body,
)

POLL_ANSWER = {
    200: ResponseSpec(
        data_container=TeleconsultationAccessBody,
        description="The requester's own link (null until it may be used) and the room's details",
        generate_examples=False,
    )
}


def roster_input(participants: Participants) -> RosterInput:
    if isinstance(participants, ParticipantsBody):
        return RosterInput(
            number=participants.number,
            data=tuple(
                ParticipantInput(
                    user_id=p.userId,
                    groups=None if p.groups is None else tuple(p.groups),
                    full_name=p.fullName,
                    language=p.language,
                )
                for p in participants.data
            ),
        )
    return RosterInput(
        number=len(participants),
        data=tuple(ParticipantInput(user_id=user_id) for user_id in participants),
        ids_only=True,
    )


def actor_id(requester: Requester | None) -> str | None:
    """Who asks, as recorded on what they write (the CRUD's creatorId / updaterId); None when not known."""
    return None if requester is None else requester.user_ids[0]


def access_body(access: ParticipantAccess) -> TeleconsultationAccessBody:
    return TeleconsultationAccessBody(
        bandyerUserId=access.provider_user_id,
        accessLinkURL=access.access_link,
        participantsBandyerCall=[CallParticipant(m.provider_user_id, m.full_name) for m in access.members],
        details=room_details_body(access.details),
    )


def teleconsultation_routes(
    *,
    create: IdempotentCreateTeleconsultation,
    update: UpdateTeleconsultation,
    read: GetTeleconsultationAccess,
    cancel: DeleteTeleconsultation,
    requesters: RequesterReader,
) -> Router:
    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Plan a teleconsultation",
        responses=error_responses(400, 409, 413, 422, 502, 503),
        request_max_body_size=limits.TELECONSULTATION_BODY,
        opt=json_body_route(CreateTeleconsultationBody),
    )
    async def create_teleconsultation(
        request: Request[Any, Any, Any],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name=HEADER,
                required=False,
                description="A unique key (a UUID) that makes retrying this request safe: a retry with the same key "
                "and body gets the first answer, not a second teleconsultation.",
            ),
        ] = None,
    ) -> Response[CreatedTeleconsultation]:
        data = await required_json_body(request, CreateTeleconsultationBody)
        requester = await requesters.requester(request)
        command = CreateTeleconsultationCommand(
            roster=roster_input(data.participants),
            start=data.start_date,
            end=data.end_date,
            duration_seconds=data.duration_in_seconds,
            context=requesters.context(request),
            actor_id=actor_id(requester),
        )
        key = None
        if idempotency_key is not None:
            scope = requester.user_ids[0] if requester is not None else ""
            key = IdempotencyKey(parse_key(idempotency_key), scope, fingerprint(data))
        created = await create.execute(command, key)
        return Response(
            CreatedTeleconsultation(roomId=created.teleconsultation_id),
            status_code=HTTP_201_CREATED,
            headers={"idempotent-replayed": "true"} if created.replayed else None,
        )

    @patch(
        "/{roomId:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Change a teleconsultation",
        responses=error_responses(400, 404, 409, 413, 502, 503),
        request_max_body_size=limits.TELECONSULTATION_BODY,
        opt=json_body_route(UpdateTeleconsultationBody),
    )
    async def update_teleconsultation(request: Request[Any, Any, Any], roomId: FromPath[str]) -> None:
        data = await required_json_body(request, UpdateTeleconsultationBody)
        command = UpdateTeleconsultationCommand(
            teleconsultation_id=roomId,
            roster=None if data.participants is None else roster_input(data.participants),
            start=data.start_date,
            end=data.end_date,
            duration_seconds=data.duration_in_seconds,
            context=requesters.context(request),
            actor_id=actor_id(await requesters.requester(request)),
        )
        await update.execute(command)

    @get(
        "/{roomId:str}",
        summary="The requesting participant's view of a teleconsultation",
        responses={**POLL_ANSWER, **error_responses(400, 401, 404, 502, 503)},
    )
    async def read_teleconsultation(
        *,
        request: Request[Any, Any, Any],
        roomId: FromPath[str],
        use_background: Annotated[bool, QueryParameter(name="useBackground")] = False,
        language: FromQuery[str | None] = None,
    ) -> ASGIResponse:
        requester = await requesters.requester(request)
        preferences = LinkPreferences(use_background=use_background, language=language)
        access = await read.execute(roomId, requester, preferences)
        # Every participant's page polls this route: its answer is encoded here and handed to the server as it is,
        # which spares each poll building Litestar's response object (a twelfth of the route's instructions).
        return ASGIResponse(body=msgspec.json.encode(access_body(access)), media_type=MediaType.JSON)

    @delete(
        "/{roomId:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Cancel a teleconsultation",
        responses=error_responses(400, 404, 409, 503),
    )
    async def cancel_teleconsultation(request: Request[Any, Any, Any], roomId: FromPath[str]) -> None:
        await cancel.execute(roomId, actor_id=actor_id(await requesters.requester(request)))

    return Router(
        "/teleconsultation",
        route_handlers=[
            create_teleconsultation,
            update_teleconsultation,
            read_teleconsultation,
            cancel_teleconsultation,
        ],
        tags=["teleconsultation"],
    )
