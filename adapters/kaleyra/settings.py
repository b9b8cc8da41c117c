"""How to reach the Kaleyra Video REST API v2 and how patient to be with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

RECORDING_TYPES = frozenset({"none", "manual", "automatic"})


@dataclass(frozen=True, slots=True)
class KaleyraSettings:
    """Connection settings; `retry_attempts` counts every attempt of an idempotent call, the first included."""

    base_url: str
    # Kept out of repr so that a logged settings object never leaks the secret.
    api_key: str = field(repr=False)
    live: bool = True
    recording: str = "none"
    connect_timeout_seconds: float = 3.0
    total_timeout_seconds: float = 10.0
    retry_attempts: int = 3
    retry_backoff_base_seconds: float = 0.2
    retry_backoff_max_seconds: float = 5.0
    retry_after_cap_seconds: float = 10.0
    uploads_page_size: int = 20  # Kaleyra's documented default page size
    # Bounds any ordinary JSON answer; transcriptions have their own limit per call.
    max_response_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("the Kaleyra base URL must be an absolute http(s) URL")
        if not self.api_key:
            raise ValueError("the Kaleyra API key must not be empty")
        if self.recording not in RECORDING_TYPES:
            raise ValueError(f"recording must be one of {sorted(RECORDING_TYPES)}")
        if self.connect_timeout_seconds <= 0 or self.total_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")
        if self.retry_attempts < 1:
            raise ValueError("retry_attempts counts the first attempt and must be at least 1")
        if min(self.retry_backoff_base_seconds, self.retry_backoff_max_seconds, self.retry_after_cap_seconds) < 0:
            raise ValueError("backoff delays must not be negative")
        if self.uploads_page_size < 1 or self.max_response_bytes < 1:
            raise ValueError("page and response sizes must be positive")

    @property
    def api_root(self) -> str:
        """The base URL without its trailing slashes."""
        return self.base_url.rstrip("/")
