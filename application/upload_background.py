"""POST /settings/background-image: store a company virtual background at the provider."""

from __future__ import annotations

from typing import Protocol

from application.authorization import Action, AuthorizationPolicy
from application.dto import BackgroundImage, CompanyBackground, Requester
from application.errors import ProviderUnsupported, UnsupportedMediaType
from application.events import EventType, Journal
from application.ports import CompanyBackgrounds

# The original service's documented limit (the provider itself accepts up to 16 MB).
MAX_BACKGROUND_BYTES = 10 * 1024 * 1024
# Every JPEG starts with a start-of-image marker followed by another marker.
JPEG_MAGIC = b"\xff\xd8\xff"
JPEG_CONTENT_TYPE = "image/jpeg"
FEATURE = "company virtual backgrounds"


class BackgroundImageSource(Protocol):
    async def read(self, max_bytes: int) -> BackgroundImage:
        """The uploaded image, read only once the requester is allowed to upload.

        Raises ContentTooLarge past `max_bytes`, UnsupportedMediaType or InvalidRequest when the request
        carries no image.
        """
        ...


def is_jpeg(data: bytes) -> bool:
    return data.startswith(JPEG_MAGIC)


class UploadCompanyBackground:
    """Raises Unauthorized, Forbidden, ProviderUnsupported (no backgrounds port), ContentTooLarge or
    UnsupportedMediaType."""

    def __init__(
        self,
        *,
        policy: AuthorizationPolicy,
        backgrounds: CompanyBackgrounds | None,
        provider_name: str,
        journal: Journal,
    ) -> None:
        self._journal = journal
        self._policy = policy
        self._backgrounds = backgrounds
        self._provider_name = provider_name

    async def execute(self, requester: Requester | None, source: BackgroundImageSource) -> CompanyBackground:
        self._policy.authorize(Action.CHANGE_SETTINGS, requester)
        if self._backgrounds is None:
            raise ProviderUnsupported(self._provider_name, FEATURE)
        image = await source.read(MAX_BACKGROUND_BYTES)
        # The declared content type is the client's word; the bytes are the image's.
        if not is_jpeg(image.data):
            raise UnsupportedMediaType("the virtual background must be a JPEG image")
        background = await self._backgrounds.upload_background(image.filename, JPEG_CONTENT_TYPE, image.data)
        assert requester is not None  # ensure_admin let it through
        await self._journal.record(self._journal.event(EventType.SETTINGS_CHANGED, actor=requester.user_ids[0]))
        return background
