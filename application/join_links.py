"""Which language and background a participant's join link asks for (the provider decides how)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from application.dto import LinkOptions
from domain.teleconsultation import Participant

# The languages the original service offers; any other value falls back to the company default.
SUPPORTED_LANGUAGES = frozenset({"it", "en"})


@dataclass(frozen=True, slots=True)
class LinkPreferences:
    """What the caller asked for when reading the link (`useBackground`, `language`)."""

    use_background: bool = False
    language: str | None = None


def supported_language(value: str | None) -> str | None:
    if value is None:
        return None
    normalised = value.strip().lower()
    return normalised if normalised in SUPPORTED_LANGUAGES else None


def choose_link_options(
    preferences: LinkPreferences,
    participant: Participant,
    requester_groups: Iterable[str],
    background_groups: frozenset[str],
) -> LinkOptions:
    """The requested language, else the participant's own, else none (the company default).

    The company background is used when asked for, or when the requester or the participant belongs to a
    group configured to always have it.
    """
    language = supported_language(preferences.language) or supported_language(participant.language)
    in_background_group = bool(background_groups) and not background_groups.isdisjoint(
        [*requester_groups, *participant.groups]
    )
    return LinkOptions(language=language, virtual_background=preferences.use_background or in_background_group)
