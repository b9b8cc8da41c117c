"""What Kaleyra sends to a webhook URL: the documented body, signed with `bandyer-signature` (see
adapters/kaleyra/webhooks.py for what is confirmed and what is assumed)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp


def kaleyra_body(event: str, room_id: str, *, event_id: str | None = None, **data: Any) -> bytes:
    document: dict[str, Any] = {
        "event": event,
        "event_version": "1.0",
        "namespace": "room",
        "timestamp": int(time.time() * 1000),
        "data": {"room_id": room_id, **data},
    }
    if event_id is not None:
        document["event_id"] = event_id
    return json.dumps(document).encode()


def kaleyra_signature(body: bytes, api_key: str, timestamp: str | None = None) -> str:
    stamp = timestamp or str(int(time.time()))
    digest = hmac.new(api_key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v0={digest}"


async def send_kaleyra_webhook(url: str, body: bytes, *, api_key: str | None) -> tuple[int, str]:
    """POST as Kaleyra does (unsigned when `api_key` is None); the status and text of the answer."""
    headers = {"content-type": "application/json"}
    if api_key is not None:
        headers["bandyer-signature"] = kaleyra_signature(body, api_key)
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()
