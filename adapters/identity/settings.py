"""Where the identity services live, which document fields carry what, and how long to wait for them."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# Asymmetric algorithms only: a symmetric one (HS*) would let anyone holding the public JWKS forge tokens.
SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# Auth0's management API returns at most 100 users per page, so a larger chunk would be cut short.
MAX_IDS_PER_REQUEST = 100


@dataclass(frozen=True, slots=True)
class AuthServiceSettings:
    """The auth0-client service; field paths are dotted and tried in order until one gives a value."""

    base_url: str  # e.g. "http://auth0-client", built by the caller from AUTH_SERVICE
    users_path: str = "/users/"
    id_field: str = "user_id"
    name_fields: tuple[str, ...] = ("name", "nickname", "email")
    groups_fields: tuple[str, ...] = ("app_metadata.groups", "groups")
    client_type: str | None = None  # DEFAULT_CLIENT_TYPE, sent when the request carries none
    connect_timeout_seconds: float = 2.0
    total_timeout_seconds: float = 5.0
    max_ids_per_request: int = 25
    max_response_bytes: int = 2 * 1024 * 1024

    def __post_init__(self) -> None:
        _check_url("the auth service base URL", self.base_url)
        if not self.users_path.startswith("/"):
            raise ValueError("the auth service users path must start with '/'")
        _check_path("id_field", self.id_field)
        _check_paths("name_fields", self.name_fields)
        _check_paths("groups_fields", self.groups_fields)
        if self.client_type is not None and not self.client_type.strip():
            raise ValueError("client_type must be None or a non-blank string")
        _check_timeouts(self.connect_timeout_seconds, self.total_timeout_seconds)
        if not 1 <= self.max_ids_per_request <= MAX_IDS_PER_REQUEST:
            raise ValueError(f"max_ids_per_request must be between 1 and {MAX_IDS_PER_REQUEST}")
        _check_positive("max_response_bytes", self.max_response_bytes)

    @property
    def users_url(self) -> str:
        return self.base_url.rstrip("/") + self.users_path


@dataclass(frozen=True, slots=True)
class CustomIdSettings:
    """A CRUD-like users collection mapping custom ids (`source`) to identity-provider ids (`target`)."""

    endpoint: str  # CUSTOM_ID_USERS_API_ENDPOINT, e.g. "http://crud-service/users/"
    source: str = "_id"
    target: str = "authUserId"
    connect_timeout_seconds: float = 2.0
    total_timeout_seconds: float = 5.0
    max_ids_per_request: int = 25
    max_response_bytes: int = 2 * 1024 * 1024

    def __post_init__(self) -> None:
        _check_url("the custom id endpoint", self.endpoint)
        _check_path("source", self.source)
        _check_path("target", self.target)
        _check_timeouts(self.connect_timeout_seconds, self.total_timeout_seconds)
        if not 1 <= self.max_ids_per_request <= MAX_IDS_PER_REQUEST:
            raise ValueError(f"max_ids_per_request must be between 1 and {MAX_IDS_PER_REQUEST}")
        _check_positive("max_response_bytes", self.max_response_bytes)


@dataclass(frozen=True, slots=True)
class JwtSettings:
    """How bearer tokens are checked; claim names may be dotted paths into the token payload."""

    jwks_url: str
    issuer: str
    audience: str
    user_id_claim: str = "sub"
    groups_claim: str = "groups"
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway_seconds: float = 30.0
    jwks_cache_ttl_seconds: float = 300.0
    # Bounds how often tokens naming unknown key ids can make us fetch the JWKS again.
    min_refresh_interval_seconds: float = 30.0
    # How long past the TTL the last good key set is still used while the JWKS cannot be fetched.
    jwks_max_stale_seconds: float = 3600.0
    connect_timeout_seconds: float = 2.0
    total_timeout_seconds: float = 5.0
    max_jwks_bytes: int = 256 * 1024
    max_token_length: int = 16 * 1024

    def __post_init__(self) -> None:
        _check_url("the JWKS URL", self.jwks_url)
        if not self.issuer.strip():
            raise ValueError("the JWT issuer must not be blank")
        if not self.audience.strip():
            raise ValueError("the JWT audience must not be blank")
        _check_path("user_id_claim", self.user_id_claim)
        _check_path("groups_claim", self.groups_claim)
        if not self.algorithms:
            raise ValueError("at least one JWT algorithm must be allowed")
        unsupported = sorted(set(self.algorithms) - SUPPORTED_ALGORITHMS)
        if unsupported:
            raise ValueError(f"unsupported JWT algorithms {unsupported}; allowed: {sorted(SUPPORTED_ALGORITHMS)}")
        for name in ("leeway_seconds", "jwks_max_stale_seconds", "min_refresh_interval_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        _check_positive("jwks_cache_ttl_seconds", self.jwks_cache_ttl_seconds)
        _check_timeouts(self.connect_timeout_seconds, self.total_timeout_seconds)
        _check_positive("max_jwks_bytes", self.max_jwks_bytes)
        _check_positive("max_token_length", self.max_token_length)


def _check_url(what: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{what} must be an absolute http(s) URL")


def _check_path(name: str, path: str) -> None:
    if not path or any(not segment for segment in path.split(".")):
        raise ValueError(f"{name} must be a field name or a dotted path without empty segments")


def _check_paths(name: str, paths: tuple[str, ...]) -> None:
    if not paths:
        raise ValueError(f"{name} must name at least one field")
    for path in paths:
        _check_path(name, path)


def _check_timeouts(connect: float, total: float) -> None:
    if connect <= 0 or total <= 0:
        raise ValueError("timeouts must be positive")


def _check_positive(name: str, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{name} must be positive")
