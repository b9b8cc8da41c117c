"""Jitsi Meet adapter for the VideoProvider port: links and optional JWTs minted locally."""

from __future__ import annotations

from adapters.jitsi.provider import JitsiVideoProvider
from adapters.jitsi.settings import JitsiSettings

__all__ = ["JitsiSettings", "JitsiVideoProvider"]
