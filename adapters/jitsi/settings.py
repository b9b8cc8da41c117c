"""Where the Jitsi Meet deployment lives and how its tokens are signed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MINIMUM_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class JitsiSettings:
    """`app_secret` None means an open deployment: plain links without tokens."""

    base_url: str = "https://meet.jit.si"
    app_id: str | None = None
    app_secret: str | None = field(default=None, repr=False)
    # How long after the scheduled end a link still lets people in (late starts, overruns).
    link_grace: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("the Jitsi base URL must be an absolute http(s) URL")
        if self.app_secret is not None:
            if not self.app_id:
                raise ValueError("a Jitsi app_secret needs the app_id it was issued for")
            if len(self.app_secret.encode()) < MINIMUM_SECRET_BYTES:
                raise ValueError(f"the Jitsi app_secret must be at least {MINIMUM_SECRET_BYTES} bytes long")
        if self.link_grace < timedelta(0):
            raise ValueError("link_grace must not be negative")

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def host(self) -> str:
        host = urlsplit(self.base_url).hostname
        assert host is not None  # checked in __post_init__
        return host
