"""Kaleyra's webhook signature and event names, held to the example of Kaleyra's own reference page."""

from __future__ import annotations

import pytest

from adapters.kaleyra.webhooks import decode_event, event_kind, signature_matches
from application.errors import InvalidRequest
from application.events import EventType

# "Verify webhook signature" (developers.kaleyra.io): input 1554193902.{"event":"test"}, key ak_live_123456.
DOCUMENTED_BODY = b'{"event":"test"}'
DOCUMENTED_HMAC = "6841e55cb12f2d9d1216c47097c75fd737a22a3a00c8d8f8d3d35fb2b613ce5b"


def test_the_documented_example_verifies() -> None:
    assert signature_matches(f"t=1554193902,v0={DOCUMENTED_HMAC}", DOCUMENTED_BODY, "ak_live_123456")
    assert signature_matches(f"t=1554193902, v0=00, v0={DOCUMENTED_HMAC.upper()}", DOCUMENTED_BODY, "ak_live_123456")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        f"v0={DOCUMENTED_HMAC}",
        f"t=1554193903,v0={DOCUMENTED_HMAC}",
        f"t=1554193902,t=1554193902,v0={DOCUMENTED_HMAC}",
        "t=1554193902,v1=" + DOCUMENTED_HMAC,
    ],
)
def test_anything_else_does_not(header: str | None) -> None:
    assert not signature_matches(header, DOCUMENTED_BODY, "ak_live_123456")
    assert not signature_matches(f"t=1554193902,v0={DOCUMENTED_HMAC}", DOCUMENTED_BODY, "another-key")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("on_call_incoming", EventType.CALL_STARTED),
        ("on_recording_available", EventType.RECORDING_AVAILABLE),
        ("on_transcription_available", EventType.TRANSCRIPTION_AVAILABLE),
        ("on_call_ended", EventType.CALL_ENDED),
        ("on_call_end", EventType.CALL_ENDED),
        ("on_call_terminated", EventType.CALL_ENDED),
        ("on_call_started", EventType.CALL_STARTED),
        ("on_room_deleted", None),
        ("on_user_created", None),
    ],
)
def test_event_names_map_tolerantly(name: str, kind: EventType | None) -> None:
    assert event_kind(name) is kind


def test_the_event_id_is_the_providers_or_the_bodys_digest() -> None:
    with_id = decode_event(b'{"event":"on_call_ended","event_id":"e-1","data":{"room_id":"r-1"}}')
    assert (with_id.event_id, with_id.room_id, with_id.kind) == ("e-1", "r-1", EventType.CALL_ENDED)
    first = decode_event(b'{"event":"on_call_ended","data":{"room_id":"r-1"}}')
    again = decode_event(b'{"event":"on_call_ended","data":{"room_id":"r-1"}}')
    other = decode_event(b'{"event":"on_call_ended","data":{"room_id":"r-2"}}')
    assert first.event_id == again.event_id != other.event_id


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"data": {}}', b'{"event": 3}'])
def test_a_body_without_an_event_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        decode_event(body)
