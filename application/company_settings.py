"""POST /settings/background-image and PATCH /settings/update: the company's virtual background."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from application.dto import BackgroundImage, CompanyBackground, Requester
from application.errors import Forbidden, InvalidRequest, Unauthorized, UnsupportedMediaType
from application.ports import CompanyBackgrounds, VideoProvider
from application.provider_features import ProviderFeature, require_feature

# The original service's documented limit (the provider itself accepts up to 16 MB).
MAX_BACKGROUND_BYTES = 10 * 1024 * 1024
# Every JPEG starts with a start-of-image marker followed by another marker.
JPEG_MAGIC = b"\xff\xd8\xff"
JPEG_CONTENT_TYPE = "image/jpeg"


class BackgroundImageSource(Protocol):
    async def read(self, max_bytes: int) -> BackgroundImage:
        """The uploaded image, read only once the requester is allowed to upload.

        Raises ContentTooLarge past `max_bytes`, UnsupportedMediaType or InvalidRequest when the request
        carries no image.
        """
        ...


class SettingsAdmins:
    """Company settings change only for requesters in one of the settings admin groups."""

    def __init__(self, groups: frozenset[str]) -> None:
        self._groups = groups

    def ensure_admin(self, requester: Requester | None) -> None:
        if requester is None or not requester.user_ids:
            raise Unauthorized
        if not self._groups.intersection(requester.groups):
            raise Forbidden


def is_jpeg(data: bytes) -> bool:
    return data.startswith(JPEG_MAGIC)


class UploadCompanyBackground:
    """Raises Unauthorized, Forbidden, ProviderUnsupported, ContentTooLarge or UnsupportedMediaType."""

    def __init__(self, *, admins: SettingsAdmins, provider: VideoProvider, backgrounds: CompanyBackgrounds) -> None:
        self._admins = admins
        self._provider = provider
        self._backgrounds = backgrounds

    async def execute(self, requester: Requester | None, source: BackgroundImageSource) -> CompanyBackground:
        self._admins.ensure_admin(requester)
        require_feature(self._provider, ProviderFeature.BACKGROUNDS)
        image = await source.read(MAX_BACKGROUND_BYTES)
        # The declared content type is the client's word; the bytes are the image's.
        if not is_jpeg(image.data):
            raise UnsupportedMediaType("the virtual background must be a JPEG image")
        return await self._backgrounds.upload_background(image.filename, JPEG_CONTENT_TYPE, image.data)


class SetDefaultBackground:
    """Raises Unauthorized, Forbidden, ProviderUnsupported, or InvalidRequest without an alias."""

    def __init__(self, *, admins: SettingsAdmins, provider: VideoProvider, backgrounds: CompanyBackgrounds) -> None:
        self._admins = admins
        self._provider = provider
        self._backgrounds = backgrounds

    async def execute(self, requester: Requester | None, alias: str | None) -> Mapping[str, object]:
        self._admins.ensure_admin(requester)
        require_feature(self._provider, ProviderFeature.BACKGROUNDS)
        if alias is None or not alias.strip():
            raise InvalidRequest("background_alias must be a non-empty string")
        return await self._backgrounds.set_default_background(alias.strip())
