"""Settings read once from the environment at start-up; a wrong value stops the service with one clear line."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ByteSize, TypeAdapter, ValidationError

from adapters.identity.settings import AuthServiceSettings, JwtSettings
from adapters.jitsi.settings import JitsiSettings
from adapters.kaleyra.settings import KaleyraSettings
from entrypoints.legacy_settings import MIA_LOG_LEVELS, SILENT, python_log_level


class ConfigurationError(Exception):
    """A setting is missing or has a wrong value; the message names it."""


RECORDING_TYPES = ("none", "manual", "automatic")
VIDEO_PROVIDERS = ("kaleyra", "jitsi", "memory")
STORE_BACKENDS = ("mongo", "memory")
# When a write counts as done (adapters/mongo/write_concern.py, not imported here: it loads pymongo).
WRITE_CONCERNS = ("majority", "journaled", "acknowledged")
AUTH_MODES = ("headers", "jwt")
# compatible: bodies as the original service accepted them (see entrypoints/http/compatible_bodies.py).
COMPATIBLE_BODIES, STRICT_BODIES = "compatible", "strict"
BODY_VALIDATIONS = (COMPATIBLE_BODIES, STRICT_BODIES)
# Python's names (the level stored) and, through entrypoints.legacy_settings, Mia's: trace, warn, fatal, silent...
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", SILENT)
# Details older than this would mislead a participant waiting for the call to start.
MAX_ROOM_DETAILS_CACHE_SECONDS = 60.0
# Transcriptions are held in memory while they are relayed: a gigabyte is already far beyond any call.
MAX_TRANSCRIPTION_BYTES = 1 << 30
# A year: more than any clinic plans ahead, and within the margin the domain keeps around appointments' dates.
MAX_IMMUTABLE_PERIOD_MS = 365 * 24 * 3600 * 1000
# A million cached teleconsultations is about 2 GiB per worker: far past any sensible bound.
MAX_TELECONSULTATION_CACHE_SIZE = 1_000_000
MAX_HTTP_WORKERS = 64
_BYTE_SIZE = TypeAdapter(ByteSize)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSettings:
    backend: str = "mongo"
    mongodb_url: str | None = None
    database: str = "teleconsultation"
    embedded_data_dir: Path = Path("data")
    teleconsultations_collection: str = "teleconsultations"
    user_map_collection: str = "teleconsultations_users"
    write_concern: str = "majority"
    # The embedded server's supervisor gives up after this many restarts within the window.
    embedded_max_restarts: int = 5
    embedded_restart_window_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class IdentityHeaders:
    """The request headers that carry the requester's identity (headers mode), lower-cased."""

    user_id: str = "miauserid"
    groups: str = "miausergroups"
    user_properties: str = "miauserproperties"
    client_type: str = "client-type"


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentitySettings:
    """Where participants' groups and names come from and how the requester is recognised."""

    auth_service: AuthServiceSettings | None = None  # None: standalone mode
    custom_id_endpoint: str | None = None
    additional_headers_to_proxy: tuple[str, ...] = ()
    headers: IdentityHeaders = field(default_factory=IdentityHeaders)
    auth_mode: str = "headers"
    jwt: JwtSettings | None = None
    # AUTH_JWT_SCHEDULING_SCOPE: a verified token granting this scope may schedule (a back-office service's
    # client-credentials token); jwt mode only.
    scheduling_scope: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReliabilitySettings:
    """How the service copes with a failing provider, leftover rooms and retried requests."""

    circuit_failure_threshold: int = 5
    circuit_reset_seconds: float = 30.0
    sweep_interval_seconds: float = 30.0
    idempotency_key_ttl_seconds: int = 86_400
    # How long a request or a sweeper may be at work on one provider room (a creation, from its intent to the stored
    # teleconsultation; a deletion it recorded or claimed) before a sweep takes over: far longer than that can take.
    room_lease_seconds: float = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpServerSettings:
    """What the HTTP server allows one client before it answers for the service (entrypoints/server.py)."""

    max_header_bytes: int = 32 * 1024  # request line and headers together; more is 431
    max_headers: int = 100  # more is 431
    header_timeout_seconds: float = 10.0  # from a request's first byte (or the connection's start) to its last header
    body_timeout_seconds: float = 30.0  # the longest pause while a request body arrives
    keep_alive_timeout_seconds: float = 5.0  # an idle connection between two requests is closed after this
    max_connections: int = 1000  # open connections; one more is answered 503 and closed


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSettings:
    """Outbound webhooks (Standard Webhooks), provider webhooks in, and how long data is kept."""

    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = None  # `whsec_` + base64, as Standard Webhooks prescribes
    webhook_max_attempts: int = 10  # then the delivery is dead-lettered
    webhook_retry_base_seconds: float = 5.0  # doubled after every failed attempt, at most an hour
    webhook_timeout_seconds: float = 10.0
    webhook_poll_seconds: float = 5.0  # how often due retries are looked for (new events are sent at once)
    retention_days: int | None = None  # None: personal data is kept
    audit_retention_days: int | None = None  # None: events are kept


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    http_host: str = "127.0.0.1"
    http_port: int = 3000
    http_workers: int = 1  # worker processes; more than one needs a MongoDB at MONGODB_URL (see server.py)
    log_level: str = "INFO"
    config_path: Path | None = None
    video_provider: str = "jitsi"
    kaleyra: KaleyraSettings | None = None
    jitsi: JitsiSettings = field(default_factory=JitsiSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    unlimited_teleconsultation: bool = True
    immutable_period: timedelta = timedelta(0)
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    provider_timeout_seconds: float = 10.0
    room_details_cache: timedelta = timedelta(seconds=2)  # zero: every read asks the provider
    # Teleconsultations remembered per process for `room_details_cache` (zero: every poll reads the store).
    teleconsultation_cache_size: int = 10_000
    # Follow the store's change stream so that other instances' writes leave that cache at once.
    cache_change_stream: bool = True
    delete_uploads: bool = False
    recording_type: str = "none"
    transcription_max_bytes: int = 50_000_000
    body_validation: str = COMPATIBLE_BODIES

    @property
    def records_calls(self) -> bool:
        return self.recording_type != "none"

    reliability: ReliabilitySettings = field(default_factory=ReliabilitySettings)
    http_server: HttpServerSettings = field(default_factory=HttpServerSettings)
    events: EventSettings = field(default_factory=EventSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        # Every default is the one its settings class declares: an unset variable leaves the field as declared.
        read, default, store = _Reader(env), cls(), StoreSettings()
        api_key = read.text("BANDYER_API_SECRET_KEY")
        provider = read.choice("VIDEO_PROVIDER", VIDEO_PROVIDERS, "kaleyra" if api_key else default.video_provider)
        timeout = read.seconds("PROVIDER_TIMEOUT_SECONDS", default.provider_timeout_seconds, maximum=300)
        live = read.boolean("LIVE_TELECONSULTATION", _declared(KaleyraSettings, "live"))
        recording = read.choice("DEFAULT_RECORDING_TYPE", RECORDING_TYPES, default.recording_type)
        kaleyra = None
        if provider == "kaleyra":
            base_url = read.required("BANDYER_BASE_URL", "the Kaleyra API base URL, e.g. https://api.eu.bandyer.com")
            key = read.required("BANDYER_API_SECRET_KEY", "the Kaleyra company API key")
            with _naming("BANDYER_BASE_URL / BANDYER_API_SECRET_KEY"):
                kaleyra = KaleyraSettings(
                    base_url=base_url, api_key=key, live=live, recording=recording, total_timeout_seconds=timeout
                )
        with _naming("JITSI_BASE_URL / JITSI_APP_ID / JITSI_APP_SECRET"):
            jitsi = JitsiSettings(
                base_url=read.text("JITSI_BASE_URL") or default.jitsi.base_url,
                app_id=read.text("JITSI_APP_ID"),
                app_secret=read.text("JITSI_APP_SECRET"),
            )
        settings = cls(
            http_host=read.text("HTTP_HOST") or default.http_host,
            http_port=read.integer("HTTP_PORT", default.http_port, minimum=0, maximum=65535),
            http_workers=read.integer("HTTP_WORKERS", default.http_workers, minimum=1, maximum=MAX_HTTP_WORKERS),
            log_level=read.log_level("LOG_LEVEL", default.log_level),
            config_path=_optional_path(read.text("TELECONSULTATION_SERVICE_CONFIG_PATH")),
            video_provider=provider,
            kaleyra=kaleyra,
            jitsi=jitsi,
            store=StoreSettings(
                backend=read.choice("STORE_BACKEND", STORE_BACKENDS, store.backend),
                mongodb_url=read.text("MONGODB_URL"),
                database=read.text("MONGODB_DATABASE") or store.database,
                embedded_data_dir=_optional_path(read.text("EMBEDDED_MONGO_DATA_DIR")) or store.embedded_data_dir,
                teleconsultations_collection=read.collection(
                    "TELECONSULTATIONS_CRUD_NAME", store.teleconsultations_collection
                ),
                user_map_collection=read.collection("USER_ID_MAP_CRUD_NAME", store.user_map_collection),
                write_concern=read.choice("MONGODB_WRITE_CONCERN", WRITE_CONCERNS, store.write_concern),
                embedded_max_restarts=read.integer(
                    "EMBEDDED_MONGO_MAX_RESTARTS", store.embedded_max_restarts, minimum=0, maximum=1000
                ),
                embedded_restart_window_seconds=read.seconds(
                    "EMBEDDED_MONGO_RESTART_WINDOW_SECONDS", store.embedded_restart_window_seconds, maximum=86_400
                ),
            ),
            unlimited_teleconsultation=read.boolean("UNLIMITED_TELECONSULTATION", default.unlimited_teleconsultation),
            immutable_period=timedelta(
                milliseconds=read.integer(
                    "IMMUTABLE_PERIOD_MS",
                    default.immutable_period // timedelta(milliseconds=1),
                    minimum=0,
                    maximum=MAX_IMMUTABLE_PERIOD_MS,
                )
            ),
            identity=_identity(read),
            provider_timeout_seconds=timeout,
            room_details_cache=timedelta(
                seconds=read.seconds(
                    "ROOM_DETAILS_CACHE_SECONDS",
                    default.room_details_cache.total_seconds(),
                    maximum=MAX_ROOM_DETAILS_CACHE_SECONDS,
                    allow_zero=True,
                )
            ),
            teleconsultation_cache_size=read.integer(
                "TELECONSULTATION_CACHE_SIZE",
                default.teleconsultation_cache_size,
                minimum=0,
                maximum=MAX_TELECONSULTATION_CACHE_SIZE,
            ),
            cache_change_stream=read.boolean("CACHE_CHANGE_STREAM", default.cache_change_stream),
            delete_uploads=read.boolean("TELECONSULTATION_DELETE_UPLOADS", default.delete_uploads),
            recording_type=recording,
            body_validation=read.choice("BODY_VALIDATION", BODY_VALIDATIONS, default.body_validation),
            transcription_max_bytes=read.size(
                "TRANSCRIPTION_MAX_FILE_SIZE", default.transcription_max_bytes, maximum=MAX_TRANSCRIPTION_BYTES
            ),
            reliability=_reliability(read),
            http_server=_http_server(read),
            events=_events(read),
        )
        _check_workers(settings)
        return settings


def _check_workers(settings: Settings) -> None:
    """Several workers are several processes: what lives inside one process cannot be shared between them."""
    if settings.http_workers == 1:
        return
    if settings.store.backend == "memory":
        raise ConfigurationError(
            "HTTP_WORKERS above 1 needs a store the workers share: STORE_BACKEND=memory keeps teleconsultations "
            "inside one process (use MongoDB, or the embedded store, which the service then starts once for all)"
        )
    if settings.video_provider == "memory":
        raise ConfigurationError(
            "HTTP_WORKERS above 1 needs a real video provider: VIDEO_PROVIDER=memory keeps rooms inside one process"
        )


def _http_server(read: _Reader) -> HttpServerSettings:
    return HttpServerSettings(
        max_header_bytes=read.integer("HTTP_MAX_HEADER_BYTES", 32 * 1024, minimum=1024, maximum=1024 * 1024),
        max_headers=read.integer("HTTP_MAX_HEADERS", 100, minimum=10, maximum=1000),
        header_timeout_seconds=read.seconds("HTTP_HEADER_TIMEOUT_SECONDS", 10.0, maximum=300),
        body_timeout_seconds=read.seconds("HTTP_BODY_TIMEOUT_SECONDS", 30.0, maximum=600),
        keep_alive_timeout_seconds=read.seconds("HTTP_KEEP_ALIVE_TIMEOUT_SECONDS", 5.0, maximum=600),
        max_connections=read.integer("HTTP_MAX_CONNECTIONS", 1000, minimum=1, maximum=100_000),
    )


def _reliability(read: _Reader) -> ReliabilitySettings:
    default = ReliabilitySettings()
    return ReliabilitySettings(
        circuit_failure_threshold=read.integer(
            "CIRCUIT_BREAKER_FAILURE_THRESHOLD", default.circuit_failure_threshold, minimum=1, maximum=1000
        ),
        circuit_reset_seconds=read.seconds(
            "CIRCUIT_BREAKER_RESET_SECONDS", default.circuit_reset_seconds, maximum=3600
        ),
        sweep_interval_seconds=read.seconds("SWEEP_INTERVAL_SECONDS", default.sweep_interval_seconds, maximum=86_400),
        idempotency_key_ttl_seconds=read.integer(
            "IDEMPOTENCY_KEY_TTL_SECONDS", default.idempotency_key_ttl_seconds, minimum=60, maximum=30 * 86_400
        ),
        room_lease_seconds=read.seconds("ROOM_LEASE_SECONDS", default.room_lease_seconds, maximum=86_400),
    )


def _events(read: _Reader) -> EventSettings:
    default = EventSettings()
    urls = tuple(url.strip() for url in (read.text("WEBHOOK_URL") or "").split(",") if url.strip())
    for url in urls:
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigurationError("WEBHOOK_URL must be one or more http(s) URLs, separated by commas")
    secret = read.text("WEBHOOK_SECRET")
    if urls and secret is None:
        raise ConfigurationError("WEBHOOK_SECRET is required with WEBHOOK_URL: set it to whsec_ and base64 bytes")
    if secret is not None and len(_webhook_key(secret)) < 24:
        raise ConfigurationError("WEBHOOK_SECRET must be whsec_ followed by at least 24 bytes in base64")
    return EventSettings(
        webhook_urls=urls,
        webhook_secret=secret,
        webhook_max_attempts=read.integer("WEBHOOK_MAX_ATTEMPTS", default.webhook_max_attempts, minimum=1, maximum=100),
        retention_days=_optional_days(read, "RETENTION_DAYS"),
        audit_retention_days=_optional_days(read, "AUDIT_RETENTION_DAYS"),
    )


def _optional_days(read: _Reader, name: str) -> int | None:
    if read.text(name) is None:
        return None
    return read.integer(name, 0, minimum=1, maximum=36_500)


def _webhook_key(secret: str) -> bytes:
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        return b""


def _identity(read: _Reader) -> IdentitySettings:
    auth_host = read.text("AUTH_SERVICE")
    auth_service = None
    if auth_host:
        base_url = auth_host if "://" in auth_host else f"http://{auth_host}"
        with _naming("AUTH_SERVICE / DEFAULT_CLIENT_TYPE"):
            auth_service = AuthServiceSettings(base_url=base_url, client_type=read.text("DEFAULT_CLIENT_TYPE"))
    custom_ids = read.text("CUSTOM_ID_USERS_API_ENDPOINT")
    if custom_ids and auth_service is None:
        raise ConfigurationError("CUSTOM_ID_USERS_API_ENDPOINT works only together with AUTH_SERVICE")
    default = IdentitySettings()
    mode = read.choice("AUTH_MODE", AUTH_MODES, default.auth_mode)
    jwt = None
    if mode == "jwt":
        with _naming("AUTH_JWKS_URL / AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE / AUTH_JWT_*_CLAIM"):
            jwt = JwtSettings(
                jwks_url=read.required("AUTH_JWKS_URL", "the URL of the identity provider's JSON Web Key Set"),
                issuer=read.required("AUTH_JWT_ISSUER", "the exact `iss` of accepted tokens"),
                audience=read.required("AUTH_JWT_AUDIENCE", "the `aud` accepted tokens must carry"),
                user_id_claim=read.text("AUTH_JWT_USER_ID_CLAIM") or _declared(JwtSettings, "user_id_claim"),
                groups_claim=read.text("AUTH_JWT_GROUPS_CLAIM") or _declared(JwtSettings, "groups_claim"),
            )
    scheduling_scope = read.text("AUTH_JWT_SCHEDULING_SCOPE")
    if scheduling_scope is not None:
        if mode != "jwt":
            raise ConfigurationError(
                "AUTH_JWT_SCHEDULING_SCOPE works only with AUTH_MODE=jwt (identity headers carry no scopes)"
            )
        if len(scheduling_scope.split()) != 1:
            raise ConfigurationError("AUTH_JWT_SCHEDULING_SCOPE must be one scope name, without spaces")
    extra_headers = read.text("ADDITIONAL_HEADERS_TO_PROXY") or ""
    return IdentitySettings(
        auth_service=auth_service,
        custom_id_endpoint=custom_ids,
        additional_headers_to_proxy=tuple(h.strip().lower() for h in extra_headers.split(",") if h.strip()),
        headers=IdentityHeaders(
            user_id=(read.text("USERID_HEADER_KEY") or default.headers.user_id).lower(),
            groups=(read.text("GROUPS_HEADER_KEY") or default.headers.groups).lower(),
            user_properties=(read.text("USER_PROPERTIES_HEADER_KEY") or default.headers.user_properties).lower(),
            client_type=(read.text("CLIENTTYPE_HEADER_KEY") or default.headers.client_type).lower(),
        ),
        auth_mode=mode,
        jwt=jwt,
        scheduling_scope=scheduling_scope,
    )


@contextmanager
def _naming(variables: str) -> Iterator[None]:
    """Adapter settings check their own values; say which variables were wrong."""
    try:
        yield
    except ValueError as error:
        raise ConfigurationError(f"{variables}: {error}") from None


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _declared(settings_class: type, name: str) -> Any:
    """The default a settings class declares for a field, for classes that cannot be built without arguments."""
    (declared,) = [found for found in fields(settings_class) if found.name == name]
    assert declared.default is not MISSING, f"{settings_class.__name__}.{name} declares no plain default"
    return declared.default


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def required(self, name: str, meaning: str) -> str:
        value = self.text(name)
        if value is None:
            raise ConfigurationError(f"{name} is required: set it to {meaning}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ConfigurationError(f"{name} must be true or false, not {value!r}")

    def integer(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be an integer, not {value!r}") from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ConfigurationError(f"{name} must be between {minimum} and {maximum}, not {number}")
        return number

    def seconds(self, name: str, default: float, *, maximum: float, allow_zero: bool = False) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be a number of seconds, not {value!r}") from None
        lowest_ok = number >= 0 if allow_zero else number > 0
        if not (lowest_ok and number <= maximum):  # also refuses nan and infinity
            lower = "0" if allow_zero else "more than 0"
            raise ConfigurationError(f"{name} must be from {lower} up to {maximum:g} seconds, not {value!r}")
        return number

    def size(self, name: str, default: int, *, maximum: int) -> int:
        """A size such as `50MB` (10^6 bytes), `50MiB` (2^20 bytes), `512KB`, `1GB`, or a number of bytes."""
        value = self.text(name)
        if value is None:
            return default
        try:
            size = int(_BYTE_SIZE.validate_python(value))
        except ValidationError:
            raise ConfigurationError(
                f"{name} must be a size such as 50MB, 512KB, 1GB or a number of bytes, not {value!r}"
            ) from None
        if not 1 <= size <= maximum:
            raise ConfigurationError(f"{name} must be between 1 byte and {maximum} bytes, not {value!r}")
        return size

    def choice(self, name: str, allowed: tuple[str, ...], default: str, *, upper: bool = False) -> str:
        value = self.text(name)
        if value is None:
            return default
        normalised = value.upper() if upper else value.lower()
        if normalised not in allowed:
            raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        return normalised

    def log_level(self, name: str, default: str) -> str:
        value = self.text(name)
        if value is None:
            return default
        level = python_log_level(value)
        if level is None:
            allowed = ", ".join(dict.fromkeys([*MIA_LOG_LEVELS, *(level.lower() for level in LOG_LEVELS)]))
            raise ConfigurationError(f"{name} must be one of {allowed} (any case), not {value!r}")
        return level

    def collection(self, name: str, default: str) -> str:
        # The original accepted a CRUD endpoint path; a leading slash is tolerated.
        value = (self.text(name) or default).strip("/")
        if not value or "$" in value or "\0" in value:
            raise ConfigurationError(f"{name} must be a collection name, not {value!r}")
        return value
