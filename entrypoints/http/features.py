"""Thin handlers for call files, the company's virtual background and transcriptions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.company_settings import MAX_BACKGROUND_BYTES, SetDefaultBackground, UploadCompanyBackground
from application.delete_uploads import DeleteCallUploads
from application.get_transcription import GetTranscription
from entrypoints.http.multipart_image import MULTIPART_OVERHEAD_BYTES, MultipartImage
from entrypoints.http.requester import RequesterReader
from entrypoints.http.schemas import (
    BackgroundUploaded,
    CompanySettings,
    Transcription,
    UpdateSettingsBody,
    UploadsDeleted,
    VirtualBackground,
)

BACKGROUND_FIELD = "virtual_background"


@delete(
    "/teleconsultation/{room_id:str}/uploads",
    status_code=HTTP_200_OK,
    summary="Delete the files shared during the call (204 when TELECONSULTATION_DELETE_UPLOADS is false)",
    tags=["teleconsultation"],
)
async def delete_uploads(
    room_id: FromPath[str], delete_call_uploads: NamedDependency[DeleteCallUploads]
) -> Response[UploadsDeleted | None]:
    outcome = await delete_call_uploads.execute(room_id)
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
)
async def upload_background(
    request: Request[Any, Any, Any],
    upload_company_background: NamedDependency[UploadCompanyBackground],
    requester_reader: NamedDependency[RequesterReader],
) -> BackgroundUploaded:
    requester = await requester_reader.requester(request)
    background = await upload_company_background.execute(requester, MultipartImage(request, BACKGROUND_FIELD))
    return BackgroundUploaded(VirtualBackground(background.alias, background.url, background.creation_date))


@patch("/settings/update", status_code=HTTP_200_OK, summary="Make a background the company default", tags=["settings"])
async def update_settings(
    request: Request[Any, Any, Any],
    set_default_background: NamedDependency[SetDefaultBackground],
    requester_reader: NamedDependency[RequesterReader],
    data: JSONBody[UpdateSettingsBody | None] = None,
) -> CompanySettings:
    requester = await requester_reader.requester(request)
    company = await set_default_background.execute(requester, data.background_alias if data is not None else None)
    return CompanySettings(company=dict(company))


@get("/transcription/{room_id:str}/{session_id:str}", summary="A recorded session's transcription", tags=["calls"])
async def read_transcription(
    room_id: FromPath[str],
    session_id: FromPath[str],
    get_transcription: NamedDependency[GetTranscription],
    fmt: Annotated[str, QueryParameter(name="format")] = "txt",
) -> Transcription:
    return Transcription(transcription=await get_transcription.execute(room_id, session_id, fmt))


FEATURE_HANDLERS = [delete_uploads, upload_background, update_settings, read_transcription]
