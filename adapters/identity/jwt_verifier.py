"""The TokenVerifier port: bearer JWTs checked against the identity provider's published JWKS.

Never logs a token, a claim value or a key: rejection reasons are fixed phrases or exception class names.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from jwt.types import Options

from adapters.identity.documents import as_groups, as_id, lookup
from adapters.identity.jwks import JwksUnavailable, KeySet, fetch_key_set
from adapters.identity.settings import JwtSettings
from application.dto import VerifiedIdentity
from application.errors import Unauthorized
from application.ports import TokenVerifier

Clock = Callable[[], float]  # seconds since the epoch, like time.time

# Times are checked below against the injected clock, so PyJWT only checks signature, iss and aud here.
_OPTIONS: Options = {
    "require": ["exp", "iss", "aud"],
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    # A weak key is refused rather than warned about on every request.
    "enforce_minimum_key_length": True,
}

logger = logging.getLogger(__name__)


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class _Cache:
    key_set: KeySet | None = None
    last_attempt: float | None = None


class JwksTokenVerifier(TokenVerifier):
    """Verifies tokens with keys from `settings.jwks_url`, cached for the TTL.

    A token naming an unknown key id makes the verifier fetch the JWKS again, but at most once per
    `min_refresh_interval_seconds`, so a flood of made-up key ids cannot hammer the JWKS server. When a
    fetch fails the last good key set stays in use for `jwks_max_stale_seconds` past its TTL.
    The session is injected and owned by the caller; this class never opens or closes one.
    """

    def __init__(self, session: aiohttp.ClientSession, settings: JwtSettings, *, clock: Clock = time.time) -> None:
        self._session = session
        self._settings = settings
        self._clock = clock
        self._cache = _Cache()
        # One fetch at a time: concurrent requests wait for it instead of starting their own.
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> VerifiedIdentity:
        try:
            return await self._verify(token)
        except _Rejected as rejection:
            logger.debug("bearer token rejected: %s", rejection.reason)
            raise Unauthorized from None
        # Fail closed: whatever a hostile token or key set triggers must end as a 401, never as a 500.
        except Exception as error:
            logger.error("bearer token verification failed unexpectedly (%s)", type(error).__name__)
            raise Unauthorized from None

    async def _verify(self, token: str) -> VerifiedIdentity:
        settings = self._settings
        if len(token) > settings.max_token_length:
            raise _Rejected("token too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _Rejected(f"malformed header ({type(error).__name__})") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        # The token may only pick among the configured algorithms, never "none" or HS*.
        if not isinstance(algorithm, str) or algorithm not in settings.algorithms:
            raise _Rejected("algorithm not allowed")
        if not isinstance(kid, str):
            raise _Rejected("no key id")
        key = await self._key(kid, algorithm)
        try:
            claims = jwt.decode(
                token, key, algorithms=[algorithm], audience=settings.audience, issuer=settings.issuer, options=_OPTIONS
            )
        except jwt.PyJWTError as error:
            raise _Rejected(type(error).__name__) from None
        self._check_times(claims)
        user_id = as_id(lookup(claims, settings.user_id_claim))
        if user_id is None:
            raise _Rejected("no user id claim")
        groups = as_groups(lookup(claims, settings.groups_claim))
        return VerifiedIdentity(user_id=user_id, groups=groups if groups is not None else (), scopes=_scopes(claims))

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now, leeway = self._clock(), self._settings.leeway_seconds
        expires = _timestamp(claims.get("exp"))
        if expires is None:
            raise _Rejected("exp is not a number")
        if expires <= now - leeway:
            raise _Rejected("expired")
        for name in ("nbf", "iat"):
            if name not in claims:
                continue
            moment = _timestamp(claims[name])
            if moment is None:
                raise _Rejected(f"{name} is not a number")
            if moment > now + leeway:
                raise _Rejected(f"not yet valid ({name})")

    async def _key(self, kid: str, algorithm: str) -> jwt.PyJWK:
        key_set = self._cache.key_set
        if key_set is None or not self._fresh(key_set) or kid not in key_set.kids:
            key_set = await self._refresh(kid)
        if key_set is None:
            raise _Rejected("no JWKS available")
        key = key_set.keys.get((kid, algorithm))
        if key is None:
            raise _Rejected("no key for this key id and algorithm")
        return key

    async def _refresh(self, kid: str) -> KeySet | None:
        async with self._lock:
            cache, now = self._cache, self._clock()
            # Another request may have refreshed the keys while this one waited for the lock.
            if cache.key_set is not None and self._fresh(cache.key_set) and kid in cache.key_set.kids:
                return cache.key_set
            interval = self._settings.min_refresh_interval_seconds
            # A clock that went backwards does not block refreshes forever.
            if cache.last_attempt is None or not 0 <= now - cache.last_attempt < interval:
                cache.last_attempt = now
                try:
                    cache.key_set = await fetch_key_set(self._session, self._settings, now)
                except JwksUnavailable as failure:
                    logger.warning("JWKS could not be refreshed: %s", failure.reason)
            return cache.key_set if cache.key_set is not None and self._usable(cache.key_set) else None

    def _fresh(self, key_set: KeySet) -> bool:
        return 0 <= self._clock() - key_set.fetched_at < self._settings.jwks_cache_ttl_seconds

    def _usable(self, key_set: KeySet) -> bool:
        settings = self._settings
        return self._clock() - key_set.fetched_at < settings.jwks_cache_ttl_seconds + settings.jwks_max_stale_seconds


def _scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """What the token grants: `scope` (RFC 9068, space-separated) and `scp` (a string or a list, as some identity
    providers write it), together; anything else in them is ignored."""
    found: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            found.extend(value.split())
        elif isinstance(value, list):
            found.extend(part for item in value if isinstance(item, str) for part in item.split())
    return tuple(dict.fromkeys(found))


def _timestamp(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return moment if math.isfinite(moment) else None
