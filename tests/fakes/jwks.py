"""A fake identity provider: signing keys, a JWKS endpoint that counts its fetches, and token minting.

In tests:   key = signing_key("k1", "RSA")
            async with FakeJwks(key) as idp:
                token = key.mint({"sub": "auth0|1", ...})
                ... JwtSettings(jwks_url=idp.jwks_url, ...) ...
                idp.state.fetches, idp.publish(other), idp.withdraw("k1"), idp.state.down = True

Keys are generated with `cryptography` and memoised by label, so a test run pays for each RSA key only once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.fakes.local_server import LocalServer

KeyKind = Literal["RSA", "EC"]
JWKS_PATH = "/.well-known/jwks.json"


@functools.cache
def _rsa_private_key(label: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def _ec_private_key(label: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    algorithm: str  # "RS256" or "ES256"
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def public_jwk(self, *, with_alg: bool = True) -> dict[str, Any]:
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig"})
        if with_alg:
            jwk["alg"] = self.algorithm
        return jwk

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def mint(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        """A token signed with this key; its header names this key's kid unless `headers` says otherwise."""
        return jwt.encode(
            claims, self.private_key, algorithm=self.algorithm, headers={"kid": self.kid, **(headers or {})}
        )


def signing_key(kid: str, kind: KeyKind = "RSA", *, label: str | None = None) -> SigningKey:
    """A key pair under `kid`; the same `label` (default: the kid) gives the same key material."""
    material = label if label is not None else kid
    if kind == "RSA":
        return SigningKey(kid, "RS256", _rsa_private_key(material))
    return SigningKey(kid, "ES256", _ec_private_key(material))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes] | None = None) -> str:
    """A token assembled by hand, for headers and signatures PyJWT refuses to produce."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = sign(signing_input.encode()) if sign is not None else b""
    return f"{signing_input}.{_b64(signature)}"


def unsigned_token(claims: dict[str, Any], *, kid: str) -> str:
    return raw_token({"alg": "none", "typ": "JWT", "kid": kid}, claims)


def hs256_token(claims: dict[str, Any], *, kid: str, secret: bytes) -> str:
    """An HS256 token: with a public key as `secret` this is the algorithm-confusion attack."""
    return raw_token(
        {"alg": "HS256", "typ": "JWT", "kid": kid},
        claims,
        lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
    )


@dataclass(slots=True)
class FakeJwksState:
    keys: dict[str, SigningKey] = field(default_factory=dict)
    fetches: int = 0
    down: bool = False  # answer 503 instead of the key set
    with_alg: bool = True  # whether the published JWKs carry "alg"


STATE = web.AppKey("jwks_state", FakeJwksState)


async def jwks(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    state.fetches += 1
    if state.down:
        return web.json_response({"error": "unavailable"}, status=503)
    return web.json_response({"keys": [key.public_jwk(with_alg=state.with_alg) for key in state.keys.values()]})


def build_app(state: FakeJwksState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_get(JWKS_PATH, jwks, allow_head=False)
    return app


class FakeJwks(LocalServer):
    """The JWKS endpoint on a real local socket, publishing the given keys."""

    description = "fake JWKS server"

    def __init__(self, *keys: SigningKey) -> None:
        super().__init__()
        self.state = FakeJwksState(keys={key.kid: key for key in keys})

    def build(self) -> web.Application:
        return build_app(self.state)

    def publish(self, key: SigningKey) -> None:
        self.state.keys[key.kid] = key

    def withdraw(self, kid: str) -> None:
        self.state.keys.pop(kid, None)

    def rotate(self, key: SigningKey) -> None:
        """Publish `key` and withdraw every other one, as an identity provider does after a rotation."""
        self.state.keys = {key.kid: key}

    @property
    def jwks_url(self) -> str:
        return self.url(JWKS_PATH)
