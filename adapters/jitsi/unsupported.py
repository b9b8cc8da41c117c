"""What Jitsi Meet cannot do through this service: every call says so with ProviderUnsupported."""

from __future__ import annotations

from application.dto import CompanyBackground, SdkCredentials
from application.errors import ProviderUnsupported
from application.ports import CallUploads, CompanyBackgrounds, SdkCredentialIssuer, SessionTranscriptions
from application.provider_features import ProviderFeature

PROVIDER = "jitsi"


class JitsiUnsupportedFeatures(SdkCredentialIssuer, CallUploads, CompanyBackgrounds, SessionTranscriptions):
    async def sdk_credentials(self, provider_user_id: str, expires_in: int) -> SdkCredentials:
        raise ProviderUnsupported(PROVIDER, "SDK credentials")

    async def list_uploads(self, room_id: str) -> list[str]:
        raise ProviderUnsupported(PROVIDER, ProviderFeature.UPLOADS.value)

    async def delete_upload(self, key: str) -> None:
        raise ProviderUnsupported(PROVIDER, ProviderFeature.UPLOADS.value)

    async def upload_background(self, filename: str, content_type: str, data: bytes) -> CompanyBackground:
        raise ProviderUnsupported(PROVIDER, ProviderFeature.BACKGROUNDS.value)

    async def set_default_background(self, alias: str) -> dict[str, object]:
        raise ProviderUnsupported(PROVIDER, ProviderFeature.BACKGROUNDS.value)

    async def transcription(self, room_id: str, session_id: str, fmt: str, max_bytes: int) -> str | None:
        raise ProviderUnsupported(PROVIDER, ProviderFeature.TRANSCRIPTIONS.value)
