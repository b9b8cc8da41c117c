"""uvicorn's httptools protocol with the limits it lacks: header size and count, slow headers, slow bodies, connections.

uvicorn bounds neither the size of a request head under httptools (which keeps an unfinished header in memory
however long it grows) nor the time a client takes to send it, and never times out a body that stops arriving;
`limit_concurrency` answers 503 to requests, but the connections themselves are not bounded. This subclass adds
each of these in the protocol's own callbacks, so that what it costs a request is a few integer updates:

* a head (request line and headers) larger than `max_header_bytes`, or with more than `max_headers` headers, is
  answered 431 and the connection closed: counted on the raw bytes as they arrive, so an unfinished header never
  holds more than the limit plus one read, and exactly on every header once parsed;
* a head not complete `header_timeout_seconds` after its first byte (or after the connection opened) is 408
  (a connection that never sent a byte is just closed);
* a body that stops arriving for `body_timeout_seconds` (unless the app is not reading it) is 408;
* a connection beyond `max_connections` is answered 503 and closed at once.

Idle keep-alive connections are closed by uvicorn itself after `timeout_keep_alive`. The answers carry the
service's CRUD-shaped error body. It relies on uvicorn's protocol internals (the parser callbacks and the request
cycle), which is why `pyproject.toml` pins uvicorn; the tests in tests/http/test_server_limits.py pin the behaviour.
"""

from __future__ import annotations

import asyncio
import functools
import http
import os
from typing import Any

import httptools
import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from entrypoints.settings import HttpServerSettings, Settings


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request that is refused."""


def guarded_protocol(limits: HttpServerSettings) -> type[HttpToolsProtocol]:
    """The protocol class to give uvicorn as its `http` implementation, with these limits."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: HttpServerSettings = HttpServerSettings()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # waiting for, or reading, a request's head
        self._head_bytes = 0  # raw bytes received for the head being read (an upper bound of its size)
        self._parsed_head_bytes = 0  # its URL, header names and values, exactly
        self._header_count = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_activity = 0.0  # loop time of the last bytes of a body
        self._refusal: tuple[int, str] | None = None
        self._refused = False

    # Connection ------------------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(503, "the service has too many open connections, retry later", retry_after=1)
            return
        self._arm_head_timer()  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._head_bytes += len(data)
        else:
            self._body_activity = self.loop.time()
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            if self._refusal is not None:
                self._refuse(*self._refusal)
                return
            # uvicorn's own callbacks failed (an unparsable URL): as uvicorn answers any parser error.
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        self._after_read()

    def _after_read(self) -> None:
        # Timers only for what is still arriving: a request that came in one read (every poll) arms none.
        if self._in_head:
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse(*self._head_too_large())
            elif self._head_bytes and self._head_timer is None:
                self._arm_head_timer()
        elif self._body_timer is None and self.cycle is not None and self.cycle.more_body:
            self._body_activity = self.loop.time()
            self._body_timer = self.loop.call_later(self.limits.body_timeout_seconds, self._body_timed_out)

    # Parser callbacks ------------------------------------------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        self._parsed_head_bytes += len(url)
        if self._parsed_head_bytes > self.limits.max_header_bytes:
            self._stop(self._head_too_large())
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._parsed_head_bytes += len(name) + len(value)
        if self._parsed_head_bytes > self.limits.max_header_bytes:
            self._stop(self._head_too_large())
        if self._header_count > self.limits.max_headers:
            self._stop((431, f"a request must not have more than {self.limits.max_headers} headers"))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = self._parsed_head_bytes = self._header_count = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    # Timers ----------------------------------------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.limits.header_timeout_seconds, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._refused or not self._in_head:
            return
        if self._head_bytes == 0:
            self._refused = True
            self.transport.close()  # nothing was asked: nothing to answer
            return
        seconds = f"{self.limits.header_timeout_seconds:g}"
        self._refuse(408, f"the request headers did not arrive within {seconds} seconds")

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self._refused or self._in_head or self.cycle is None:
            return
        idle = self.loop.time() - self._body_activity
        if self.flow.read_paused or idle < self.limits.body_timeout_seconds:
            # Bytes came since (or the app is not reading, so the pause is not the client's): wait again.
            wait = self.limits.body_timeout_seconds - (0 if self.flow.read_paused else idle)
            self._body_timer = self.loop.call_later(wait, self._body_timed_out)
            return
        seconds = f"{self.limits.body_timeout_seconds:g}"
        self._refuse(408, f"the request body stopped arriving for {seconds} seconds")

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    # Refusals --------------------------------------------------------------------------------------------------

    def _head_too_large(self) -> tuple[int, str]:
        return 431, f"the request line and headers must not exceed {self.limits.max_header_bytes} bytes"

    def _stop(self, refusal: tuple[int, str]) -> None:
        self._refusal = refusal
        raise _Refused

    def _refuse(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        """Answers with the service's CRUD-shaped error body and closes the connection."""
        self._refused = True
        self._cancel_timers()
        answering = self.cycle is not None and self.cycle.response_started and not self.cycle.response_complete
        if self.cycle is not None:
            # An app still waiting for this request's body learns that the client is gone.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if answering:  # an answer is already on its way: another cannot be written into it
            self.transport.close()
            return
        phrase = http.HTTPStatus(status).phrase
        body = msgspec.json.encode({"statusCode": status, "error": phrase, "message": message})
        head = [
            f"HTTP/1.1 {status} {phrase}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            "connection: close",
            *([f"retry-after: {retry_after}"] if retry_after is not None else []),
        ]
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body)
        self.transport.close()


class WorkerHttpToolsProtocol(GuardedHttpToolsProtocol):
    """The protocol of worker processes (HTTP_WORKERS above 1), which import it by name: the limits the
    environment they inherit from the parent sets (the parent checked it at start-up)."""

    @property
    def limits(self) -> HttpServerSettings:  # type: ignore[override]
        return _limits_from_environment()


@functools.cache
def _limits_from_environment() -> HttpServerSettings:
    return Settings.from_env(os.environ).http_server


WORKER_PROTOCOL = f"{__name__}:{WorkerHttpToolsProtocol.__name__}"
