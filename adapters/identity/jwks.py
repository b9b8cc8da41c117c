"""Fetching a JSON Web Key Set and turning it into verification keys, one per (key id, algorithm)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from adapters.identity.settings import JwtSettings
from adapters.identity.transport import get_json
from application.errors import IdentityServiceError

SERVICE = "JWKS"
# The key type (and curve) each algorithm may be used with, so a key can never serve another family.
_KEY_SHAPES: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", None),
}


class JwksUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KeySet:
    keys: Mapping[tuple[str, str], jwt.PyJWK]  # (kid, algorithm) -> key
    kids: frozenset[str]  # every key id listed, usable or not: a listed id never triggers a refresh
    fetched_at: float


async def fetch_key_set(session: aiohttp.ClientSession, settings: JwtSettings, now: float) -> KeySet:
    timeout = aiohttp.ClientTimeout(total=settings.total_timeout_seconds, connect=settings.connect_timeout_seconds)
    try:
        payload = await get_json(
            session, SERVICE, settings.jwks_url, client_timeout=timeout, max_bytes=settings.max_jwks_bytes
        )
    except IdentityServiceError as error:
        raise JwksUnavailable(str(error)) from None
    entries = payload.get("keys") if isinstance(payload, Mapping) else None
    if not isinstance(entries, list):
        raise JwksUnavailable("the JWKS has no key list")
    jwks = [entry for entry in entries if isinstance(entry, Mapping) and isinstance(entry.get("kid"), str)]
    return KeySet(
        keys=signing_keys(jwks, settings.algorithms),
        kids=frozenset(entry["kid"] for entry in jwks),
        fetched_at=now,
    )


def signing_keys(jwks: Iterable[Mapping[str, Any]], algorithms: Iterable[str]) -> dict[tuple[str, str], jwt.PyJWK]:
    """Keys meant for signatures, each bound to every allowed algorithm its type and `alg` permit."""
    allowed = tuple(algorithms)
    keys: dict[tuple[str, str], jwt.PyJWK] = {}
    for jwk in jwks:
        if jwk.get("use", "sig") != "sig":
            continue
        declared = jwk.get("alg")
        for algorithm in allowed:
            kty, crv = _KEY_SHAPES[algorithm]
            if (declared is not None and declared != algorithm) or jwk.get("kty") != kty:
                continue
            if crv is not None and jwk.get("crv") != crv:
                continue
            slot = (jwk["kid"], algorithm)
            if slot in keys:
                continue  # the first key listed under a key id wins
            try:
                keys[slot] = jwt.PyJWK(dict(jwk), algorithm=algorithm)
            # The JWKS is remote input: a malformed key is skipped, whatever the parser raises.
            except Exception:  # noqa: S112
                continue
    return keys
