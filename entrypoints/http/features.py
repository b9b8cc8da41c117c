"""Thin handlers for call files, the company's virtual background and transcriptions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.company_settings import MAX_BACKGROUND_BYTES
from entrypoints.http import limits
from entrypoints.http.bodies import strictly_decoded
from entrypoints.http.multipart_image import MULTIPART_OVERHEAD_BYTES, MultipartImage
from entrypoints.http.openapi import NO_CONTENT, error_responses
from entrypoints.http.schemas import (
    BackgroundUploaded,
    CompanySettings,
    Transcription,
    UpdateSettingsBody,
    UploadsDeleted,
    VirtualBackground,
)
from entrypoints.http.service_slot import services_of

BACKGROUND_FIELD = "virtual_background"


@delete(
    "/teleconsultation/{room_id:str}/uploads",
    status_code=HTTP_200_OK,
    summary="Delete the files shared during the call (204 when TELECONSULTATION_DELETE_UPLOADS is false)",
    tags=["teleconsultation"],
    responses={**NO_CONTENT, **error_responses(404, 501, 502, 503)},
)
async def delete_uploads(request: Request[Any, Any, Any], room_id: FromPath[str]) -> Response[UploadsDeleted | None]:
    outcome = await services_of(request).delete_call_uploads.execute(room_id)
    if outcome is None:
        return Response(None, status_code=HTTP_204_NO_CONTENT)
    return Response(UploadsDeleted(total=outcome.total, deleted=outcome.deleted), status_code=HTTP_200_OK)


@post(
    "/settings/background-image",
    status_code=HTTP_200_OK,
    summary="Upload a company virtual background (multipart field virtual_background, JPEG, at most 10 MB)",
    tags=["settings"],
    # The upload streams through a parser with its own per-file limit; this bounds the whole body.
    request_max_body_size=MAX_BACKGROUND_BYTES + MULTIPART_OVERHEAD_BYTES,
    responses=error_responses(400, 401, 403, 413, 415, 501, 502, 503),
)
async def upload_background(
    request: Request[Any, Any, Any],
) -> BackgroundUploaded:
    services = services_of(request)
    requester = await services.requester_reader.requester(request)
    background = await services.upload_company_background.execute(requester, MultipartImage(request, BACKGROUND_FIELD))
    return BackgroundUploaded(VirtualBackground(background.alias, background.url, background.creation_date))


@patch(
    "/settings/update",
    status_code=HTTP_200_OK,
    summary="Make a background the company default",
    tags=["settings"],
    responses=error_responses(400, 401, 403, 413, 415, 501, 502, 503),
    request_max_body_size=limits.SETTINGS_BODY,
    before_request=strictly_decoded(UpdateSettingsBody | None),
)
async def update_settings(
    request: Request[Any, Any, Any],
    data: JSONBody[UpdateSettingsBody | None] = None,
) -> CompanySettings:
    services = services_of(request)
    requester = await services.requester_reader.requester(request)
    company = await services.set_default_background.execute(
        requester, data.background_alias if data is not None else None
    )
    return CompanySettings(company=dict(company))


@get(
    "/transcription/{room_id:str}/{session_id:str}",
    summary="A recorded session's transcription",
    tags=["calls"],
    responses=error_responses(400, 404, 409, 501, 502, 503),
)
async def read_transcription(
    request: Request[Any, Any, Any],
    room_id: FromPath[str],
    session_id: FromPath[str],
    fmt: Annotated[str, QueryParameter(name="format")] = "txt",
) -> Transcription:
    transcription = await services_of(request).get_transcription.execute(room_id, session_id, fmt)
    return Transcription(transcription=transcription)


FEATURE_HANDLERS = [delete_uploads, upload_background, update_settings, read_transcription]
