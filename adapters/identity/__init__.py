"""Identity adapters: the auth0-client user directory, the custom-id resolver and the JWKS token verifier."""

from __future__ import annotations

from adapters.identity.auth0_client import Auth0ClientDirectory
from adapters.identity.custom_ids import CrudCustomIdResolver
from adapters.identity.jwt_verifier import JwksTokenVerifier
from adapters.identity.settings import AuthServiceSettings, CustomIdSettings, JwtSettings

__all__ = [
    "Auth0ClientDirectory",
    "AuthServiceSettings",
    "CrudCustomIdResolver",
    "CustomIdSettings",
    "JwksTokenVerifier",
    "JwtSettings",
]
