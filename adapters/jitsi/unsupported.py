"""What Jitsi Meet cannot do through this service: every call says so with ProviderUnsupported."""

from __future__ import annotations

from application.dto import SdkCredentials
from application.errors import ProviderUnsupported
from application.ports import SdkCredentialIssuer

PROVIDER = "jitsi"


class JitsiUnsupportedFeatures(SdkCredentialIssuer):
    async def sdk_credentials(self, provider_user_id: str, expires_in: int) -> SdkCredentials:
        raise ProviderUnsupported(PROVIDER, "SDK credentials")
