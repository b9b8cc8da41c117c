"""Features some video providers lack, and the check use cases make before relying on one."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from application.errors import ProviderUnsupported


class ProviderFeature(StrEnum):
    """The value names the feature in the error a caller gets when the provider lacks it."""

    UPLOADS = "in-call file uploads"
    BACKGROUNDS = "company virtual backgrounds"
    TRANSCRIPTIONS = "transcriptions"


class DeclaresFeatures(Protocol):
    name: str
    features: frozenset[ProviderFeature]


def require_feature(provider: DeclaresFeatures, feature: ProviderFeature) -> None:
    """Raises ProviderUnsupported unless the provider declares `feature`."""
    if feature not in provider.features:
        raise ProviderUnsupported(provider.name, feature.value)
