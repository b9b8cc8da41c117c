"""What Jitsi Meet cannot do through this service: every call says so with ProviderUnsupported."""

from __future__ import annotations

from application.dto import SdkCredentials
from application.errors import ProviderUnsupported
from application.ports import CallUploads, SdkCredentialIssuer
from application.provider_features import ProviderFeature

PROVIDER = "jitsi"


class JitsiUnsupportedFeatures(SdkCredentialIssuer, CallUploads):
    async def sdk_credentials(self, provider_user_id: str, expires_in: int) -> SdkCredentials:
        raise ProviderUnsupported(PROVIDER, "SDK credentials")

    async def list_uploads(self, room_id: str) -> list[str]:
        raise ProviderUnsupported(PROVIDER, ProviderFeature.UPLOADS.value)

    async def delete_upload(self, key: str) -> None:
        raise ProviderUnsupported(PROVIDER, ProviderFeature.UPLOADS.value)
