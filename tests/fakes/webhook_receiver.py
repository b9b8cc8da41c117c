"""A hospital system receiving the service's Standard Webhooks, on a real socket (aiohttp.web).

Every request's signature is checked by hand from the specification (not with the library the service signs
with): `v1,` + base64(HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")). A request that does
not verify is answered 401 and counted in `bad_signatures`. `fail_first` answers the first that many good requests
with 503, as a receiver that is not up yet. What it took (2xx) is in `accepted`, in arrival order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.local_server import LocalServer

SECRET = "whsec_" + base64.b64encode(b"a test secret of thirty-two bytes").decode()


@dataclass(frozen=True)
class Received:
    webhook_id: str
    timestamp: int
    payload: dict[str, Any]


@dataclass
class ReceiverState:
    secret: str = SECRET
    fail_first: int = 0
    accepted: list[Received] = field(default_factory=list)
    refused: int = 0
    bad_signatures: int = 0

    def accepted_ids(self) -> Counter[str]:
        return Counter(received.webhook_id for received in self.accepted)


def expected_signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> bytes:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    return hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def verifies(secret: str, headers: Any, body: bytes) -> bool:
    webhook_id, timestamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature", "")
    if not webhook_id or not timestamp or not timestamp.isdigit():
        return False
    wanted = expected_signature(secret, webhook_id, timestamp, body)
    for signature in signatures.split(" "):
        version, _, encoded = signature.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(encoded), wanted):
            return True
    return False


class WebhookReceiver(LocalServer):
    description = "webhook receiver"

    def __init__(self, state: ReceiverState | None = None) -> None:
        super().__init__()
        self.state = state or ReceiverState()

    def build(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hooks", self._receive)
        return app

    async def _receive(self, request: web.Request) -> web.Response:
        state = self.state
        body = await request.read()
        if not verifies(state.secret, request.headers, body):
            state.bad_signatures += 1
            return web.Response(status=401)
        if state.fail_first > 0:
            state.fail_first -= 1
            state.refused += 1
            return web.Response(status=503)
        state.accepted.append(
            Received(request.headers["webhook-id"], int(request.headers["webhook-timestamp"]), json.loads(body))
        )
        return web.Response(status=204)
