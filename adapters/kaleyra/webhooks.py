"""Kaleyra's webhooks as they arrive: the signature checked, the event named in our terms.

Kaleyra's "Verify webhook signature" reference: v1 webhooks carry `bandyer-signature: t=<timestamp>,v0=<hmac>`,
the hex SHA-256 HMAC of `<t>.<request body>` keyed with the company API key. The body is
`{"event", "event_version", "namespace", "timestamp", "data": {"room_id", ...}}`.

Event names: `on_call_incoming`, `on_recording_available` and `on_transcription_available` are Kaleyra's
(confirmed); no name was found for a call that ended, so names are mapped tolerantly (see `event_kind`). No event id
appears in the documented body: an `event_id` or `id` is used when present, else the digest of the body itself,
which Kaleyra's retries of one delivery repeat.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import msgspec

from application.errors import InvalidRequest
from application.events import EventType
from application.provider_events import ProviderEvent

SIGNATURE_HEADER = "bandyer-signature"
PROVIDER = "kaleyra"

# Confirmed by Kaleyra's documentation.
KNOWN_EVENTS = {
    "on_call_incoming": EventType.CALL_STARTED,
    "on_recording_available": EventType.RECORDING_AVAILABLE,
    "on_transcription_available": EventType.TRANSCRIPTION_AVAILABLE,
}


def signature_matches(header: str | None, body: bytes, api_key: str) -> bool:
    """Whether one of the header's `v0` signatures is the HMAC of `<t>.<body>` under the API key."""
    if not header:
        return False
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    timestamps = fields.get("t", [])
    if len(timestamps) != 1 or not timestamps[0]:
        return False
    signed = timestamps[0].encode() + b"." + body
    expected = hmac.new(api_key.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate.lower()) for candidate in fields.get("v0", []))


def event_kind(name: str) -> EventType | None:
    """Our event for a Kaleyra event name: the confirmed ones exactly, others by the words they use (assumed:
    `on_call_ended`, `on_call_end`, `on_call_terminated`, `on_call_started`, ...)."""
    known = KNOWN_EVENTS.get(name)
    if known is not None:
        return known
    words = name.lower()
    if "recording" in words and "available" in words:
        return EventType.RECORDING_AVAILABLE
    if "transcription" in words and "available" in words:
        return EventType.TRANSCRIPTION_AVAILABLE
    if "call" in words:
        if any(word in words for word in ("end", "terminat", "hang", "closed")):
            return EventType.CALL_ENDED
        if any(word in words for word in ("start", "began", "begin")):
            return EventType.CALL_STARTED
    return None


def decode_event(body: bytes) -> ProviderEvent:
    """Raises InvalidRequest unless the body is a JSON object with an `event` name."""
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        raise InvalidRequest("the body is not a JSON document") from None
    if not isinstance(document, dict) or not isinstance(document.get("event"), str):
        raise InvalidRequest("the body names no event")
    data = document.get("data")
    data = data if isinstance(data, dict) else {}
    return ProviderEvent(
        provider=PROVIDER,
        event_id=_text(document.get("event_id")) or _text(document.get("id")) or hashlib.sha256(body).hexdigest(),
        kind=event_kind(document["event"]),
        room_id=_text(data.get("room_id")) or _text(document.get("room_id")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value and len(value) <= 256 else None
