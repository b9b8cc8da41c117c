"""POST /credentials: a mobile-SDK token for the logged-in user."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_201_CREATED

from application.issue_credentials import IssueCredentials
from entrypoints.http import limits
from entrypoints.http.bodies import json_body_route, read_json_body
from entrypoints.http.openapi import error_responses
from entrypoints.http.requester import RequesterReader
from entrypoints.http.schemas import DEFAULT_EXPIRES_IN, CredentialsBody, CredentialsCreated


def credentials_routes(*, issue: IssueCredentials, requesters: RequesterReader) -> list[HTTPRouteHandler]:
    @post(
        "/credentials",
        status_code=HTTP_201_CREATED,
        summary="A mobile-SDK token for the logged-in user",
        responses=error_responses(400, 401, 413, 415, 501, 502, 503),
        request_max_body_size=limits.CREDENTIALS_BODY,
        opt=json_body_route(CredentialsBody, required=False),
    )
    async def issue_credentials(request: Request[Any, Any, Any]) -> CredentialsCreated:
        data = await read_json_body(request, OPTIONAL_CREDENTIALS)
        expires_in = data.expiresIn if data is not None else DEFAULT_EXPIRES_IN
        credentials = await issue.execute(await requesters.requester(request), expires_in, requesters.context(request))
        return CredentialsCreated(
            accessToken=credentials.access_token, expiresAt=credentials.expires_at, bandyerUserId=credentials.user_id
        )

    return [issue_credentials]


# `null` is a body too: the same as none.
OPTIONAL_CREDENTIALS: Any = CredentialsBody | None
