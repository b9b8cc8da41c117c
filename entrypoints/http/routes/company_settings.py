"""The company's virtual background: upload one, make one the default."""

from __future__ import annotations

from typing import Any

from litestar import Request, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_200_OK

from application.set_default_background import SetDefaultBackground
from application.upload_background import MAX_BACKGROUND_BYTES, UploadCompanyBackground
from entrypoints.http import limits
from entrypoints.http.bodies import json_body_route, read_json_body
from entrypoints.http.multipart_image import MULTIPART_OVERHEAD_BYTES, MultipartImage
from entrypoints.http.openapi import error_responses
from entrypoints.http.requester import RequesterReader
from entrypoints.http.schemas import BackgroundUploaded, CompanySettings, UpdateSettingsBody, VirtualBackground

BACKGROUND_FIELD = "virtual_background"


def settings_routes(
    *,
    upload_background: UploadCompanyBackground,
    set_default_background: SetDefaultBackground,
    requesters: RequesterReader,
) -> list[HTTPRouteHandler]:
    @post(
        "/settings/background-image",
        status_code=HTTP_200_OK,
        summary="Upload a company virtual background (multipart field virtual_background, JPEG, at most 10 MB)",
        tags=["settings"],
        # The upload streams through a parser with its own per-file limit; this bounds the whole body.
        request_max_body_size=MAX_BACKGROUND_BYTES + MULTIPART_OVERHEAD_BYTES,
        responses=error_responses(400, 401, 403, 413, 415, 501, 502, 503),
    )
    async def upload_company_background(request: Request[Any, Any, Any]) -> BackgroundUploaded:
        requester = await requesters.requester(request)
        background = await upload_background.execute(requester, MultipartImage(request, BACKGROUND_FIELD))
        return BackgroundUploaded(VirtualBackground(background.alias, background.url, background.creation_date))

    @patch(
        "/settings/update",
        status_code=HTTP_200_OK,
        summary="Make a background the company default",
        tags=["settings"],
        responses=error_responses(400, 401, 403, 413, 415, 501, 502, 503),
        request_max_body_size=limits.SETTINGS_BODY,
        opt=json_body_route(UpdateSettingsBody, required=False),
    )
    async def update_company_settings(request: Request[Any, Any, Any]) -> CompanySettings:
        requester = await requesters.requester(request)
        data = await read_json_body(request, OPTIONAL_SETTINGS)
        company = await set_default_background.execute(requester, data.background_alias if data is not None else None)
        return CompanySettings(company=dict(company))

    return [upload_company_background, update_company_settings]


OPTIONAL_SETTINGS: Any = UpdateSettingsBody | None
