"""Which participant ids can ever sign in: the rule is checked once, where a roster comes in."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from domain.errors import InvalidRoster

# What the requester's identity loses before it is compared: a gateway's header value is trimmed of ASCII space
# and tab (the optional whitespace of HTTP), nothing else.
TRIMMED = " \t"


def can_sign_in(user_id: str) -> bool:
    """False for an id no requester can ever carry: blank, padded with what is trimmed, or holding a control
    character (NUL, DEL, C0 and C1 controls, tab among them), which no header or token can transport intact."""
    return (
        bool(user_id)
        and user_id.strip(TRIMMED) == user_id
        and not any(unicodedata.category(char) == "Cc" for char in user_id)
    )


def check_participant_ids(user_ids: Iterable[str]) -> None:
    """Raises InvalidRoster naming the first participant (by position) whose id can never sign in."""
    for position, user_id in enumerate(user_ids, start=1):
        if not can_sign_in(user_id):
            raise InvalidRoster(
                f"participant {position} has a userId that can never sign in: it is blank, starts or ends with a "
                "space or a tab, or contains a control character"
            )
