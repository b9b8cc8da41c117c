"""Thin HTTP handlers: body -> command -> use case -> body."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from application.create_teleconsultation import CreateTeleconsultationCommand
from application.dto import ParticipantInput, RosterInput
from application.get_teleconsultation import ParticipantAccess
from application.idempotent_creation import IdempotencyKey
from application.join_links import LinkPreferences
from application.update_teleconsultation import UpdateTeleconsultationCommand
from entrypoints.http import limits
from entrypoints.http.bodies import strictly_decoded
from entrypoints.http.idempotency import HEADER, fingerprint, sent_key
from entrypoints.http.openapi import error_responses
from entrypoints.http.schemas import (
    DEFAULT_EXPIRES_IN,
    CallParticipant,
    CreatedTeleconsultation,
    CreateTeleconsultationBody,
    CredentialsBody,
    CredentialsCreated,
    Participants,
    ParticipantsBody,
    RoomDetailsBody,
    TeleconsultationAccessBody,
    UpdateTeleconsultationBody,
)
from entrypoints.http.service_slot import services_of


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


def access_body(access: ParticipantAccess) -> TeleconsultationAccessBody:
    details = access.details
    return TeleconsultationAccessBody(
        bandyerUserId=access.provider_user_id,
        accessLinkURL=access.access_link,
        participantsBandyerCall=[CallParticipant(m.provider_user_id, m.full_name) for m in access.members],
        details=None
        if details is None
        else RoomDetailsBody(
            recording=details.recording,
            recordingStatus=details.recording_status,
            callType=details.call_type,
            description=details.description,
            status=details.status,
            disabled=details.disabled,
            creationDate=details.creation_date,
            durationInSeconds=details.duration_in_seconds,
            durationUsedInSeconds=details.duration_used_in_seconds,
            live=details.live,
        ),
    )


POLL_ANSWER = {
    200: ResponseSpec(
        data_container=TeleconsultationAccessBody,
        description="The requester's own link (null until it may be used) and the room's details",
        generate_examples=False,
    )
}


class TeleconsultationController(Controller):
    path = "/teleconsultation"
    tags = ["teleconsultation"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Plan a teleconsultation",
        responses=error_responses(400, 409, 413, 415, 422, 502, 503),
        request_max_body_size=limits.TELECONSULTATION_BODY,
        before_request=strictly_decoded(CreateTeleconsultationBody),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CreateTeleconsultationBody],
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
        services = services_of(request)
        command = CreateTeleconsultationCommand(
            roster=roster_input(data.participants),
            start=data.start_date,
            end=data.end_date,
            duration_seconds=data.duration_in_seconds,
            context=services.requester_reader.context(request),
        )
        key = None
        if idempotency_key is not None:
            requester = await services.requester_reader.requester(request)
            scope = requester.user_ids[0] if requester is not None else ""
            key = IdempotencyKey(sent_key(request.scope["headers"]), scope, fingerprint(data))
        created = await services.idempotent_create_teleconsultation.execute(command, key)
        return Response(
            CreatedTeleconsultation(roomId=created.teleconsultation_id),
            status_code=HTTP_201_CREATED,
            headers={"idempotent-replayed": "true"} if created.replayed else None,
        )

    @patch(
        "/{room_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Change a teleconsultation",
        responses=error_responses(400, 404, 409, 413, 415, 502, 503),
        request_max_body_size=limits.TELECONSULTATION_BODY,
        before_request=strictly_decoded(UpdateTeleconsultationBody),
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        room_id: FromPath[str],
        data: JSONBody[UpdateTeleconsultationBody],
    ) -> None:
        services = services_of(request)
        command = UpdateTeleconsultationCommand(
            teleconsultation_id=room_id,
            roster=None if data.participants is None else roster_input(data.participants),
            start=data.start_date,
            end=data.end_date,
            duration_seconds=data.duration_in_seconds,
            context=services.requester_reader.context(request),
        )
        await services.update_teleconsultation.execute(command)

    @get(
        "/{room_id:str}",
        summary="The requesting participant's view of a teleconsultation",
        responses={**POLL_ANSWER, **error_responses(400, 401, 404, 502, 503)},
    )
    async def read(
        self,
        *,
        request: Request[Any, Any, Any],
        room_id: FromPath[str],
        use_background: Annotated[bool, QueryParameter(name="useBackground")] = False,
        language: FromQuery[str | None] = None,
    ) -> ASGIResponse:
        services = services_of(request)
        requester = await services.requester_reader.requester(request)
        preferences = LinkPreferences(use_background=use_background, language=language)
        access = await services.get_teleconsultation_access.execute(room_id, requester, preferences)
        # Every participant's page polls this route: its answer is encoded here and handed to the server as it is,
        # which spares each poll building Litestar's response object (a twelfth of the route's instructions).
        return ASGIResponse(body=msgspec.json.encode(access_body(access)), media_type=MediaType.JSON)

    @delete(
        "/{room_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Cancel a teleconsultation",
        responses=error_responses(400, 404, 409, 503),
    )
    async def remove(self, request: Request[Any, Any, Any], room_id: FromPath[str]) -> None:
        await services_of(request).delete_teleconsultation.execute(room_id)


@post(
    "/credentials",
    status_code=HTTP_201_CREATED,
    summary="A mobile-SDK token for the logged-in user",
    responses=error_responses(400, 401, 413, 415, 501, 502, 503),
    request_max_body_size=limits.CREDENTIALS_BODY,
    before_request=strictly_decoded(CredentialsBody | None),
)
async def issue_credentials(
    request: Request[Any, Any, Any],
    data: JSONBody[CredentialsBody | None] = None,
) -> CredentialsCreated:
    services = services_of(request)
    expires_in = data.expiresIn if data is not None else DEFAULT_EXPIRES_IN
    reader = services.requester_reader
    credentials = await services.issue_credentials.execute(
        await reader.requester(request), expires_in, reader.context(request)
    )
    return CredentialsCreated(
        accessToken=credentials.access_token, expiresAt=credentials.expires_at, bandyerUserId=credentials.user_id
    )
