"""Kaleyra Video REST API v2 adapter for the VideoProvider port."""

from __future__ import annotations

from adapters.kaleyra.client import KaleyraVideoProvider
from adapters.kaleyra.settings import KaleyraSettings

__all__ = ["KaleyraSettings", "KaleyraVideoProvider"]
