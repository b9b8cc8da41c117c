"""Files shared during a call, and the transcriptions of its recorded sessions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, delete, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.delete_uploads import DeleteCallUploads
from application.get_transcription import GetTranscription
from entrypoints.http.openapi import NO_CONTENT, error_responses
from entrypoints.http.requester import RequesterReader
from entrypoints.http.schemas import Transcription, UploadsDeleted


def call_routes(
    *, delete_uploads: DeleteCallUploads, read_transcription: GetTranscription, requesters: RequesterReader
) -> list[HTTPRouteHandler]:
    @delete(
        "/teleconsultation/{roomId:str}/uploads",
        status_code=HTTP_200_OK,
        summary="Delete the files shared during the call (204 when TELECONSULTATION_DELETE_UPLOADS is false)",
        tags=["teleconsultation"],
        responses={**NO_CONTENT, **error_responses(401, 404, 501, 502, 503)},
    )
    async def delete_call_uploads(
        request: Request[Any, Any, Any], roomId: FromPath[str]
    ) -> Response[UploadsDeleted | None]:
        outcome = await delete_uploads.execute(roomId, await requesters.requester(request))
        if outcome is None:
            return Response(None, status_code=HTTP_204_NO_CONTENT)
        return Response(UploadsDeleted(total=outcome.total, deleted=outcome.deleted), status_code=HTTP_200_OK)

    @get(
        "/transcription/{roomId:str}/{sessionId:str}",
        summary="A recorded session's transcription",
        tags=["calls"],
        responses=error_responses(400, 401, 404, 409, 501, 502, 503),
    )
    async def read_session_transcription(
        request: Request[Any, Any, Any],
        roomId: FromPath[str],
        sessionId: FromPath[str],
        fmt: Annotated[str, QueryParameter(name="format")] = "txt",
    ) -> Transcription:
        requester = await requesters.requester(request)
        return Transcription(transcription=await read_transcription.execute(roomId, sessionId, fmt, requester))

    return [delete_call_uploads, read_session_transcription]
