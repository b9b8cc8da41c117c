"""Thin handlers for call files, the company's virtual background and transcriptions."""

from __future__ import annotations

from litestar import Response, delete
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.delete_uploads import DeleteCallUploads
from entrypoints.http.schemas import UploadsDeleted


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


FEATURE_HANDLERS = [delete_uploads]
