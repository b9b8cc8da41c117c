"""One HTTP exchange with Kaleyra: headers, timeouts, bounded retries, error translation.

Nothing here logs or raises a URL, a header or a body: join links and patient data travel in them.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote

import aiohttp
import msgspec
from aiohttp import hdrs
from yarl import URL

from adapters.kaleyra.settings import KaleyraSettings
from adapters.kaleyra.wire import ErrorBody
from application.errors import ProviderError

PROVIDER = "kaleyra"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# An error code is logged only when it cannot carry a link or free text.
_LOGGABLE_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    charset: str | None = None


class _Call(NamedTuple):  # a tuple: built on every provider call, and cheaper than a frozen dataclass
    operation: str
    method: str
    url: URL
    json: bytes | None
    form: aiohttp.FormData | None
    params: Mapping[str, str] | None
    limit: int
    too_large: str
    accept: str


class _Retryable(Exception):
    """An attempt failed in a way a later attempt may not."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class KaleyraTransport:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: KaleyraSettings,
        *,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._sleep = sleep or asyncio.sleep
        self._rng = rng or random.SystemRandom()
        self._timeout = aiohttp.ClientTimeout(
            total=settings.total_timeout_seconds, connect=settings.connect_timeout_seconds
        )

    def url(self, *segments: str) -> URL:
        # Quote every segment so an id can never add a path level or a query.
        path = "/".join(quote(segment, safe="") for segment in segments)
        return URL(f"{self._settings.api_root}/{path}", encoded=True)

    async def send(
        self,
        operation: str,
        method: str,
        url: URL,
        *,
        json: bytes | None = None,
        form: aiohttp.FormData | None = None,
        params: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        too_large: str = "response too large",
        accept: str = "application/json",
    ) -> Reply:
        """The first non-retryable answer, 2xx or not; raises ProviderError when no answer came."""
        call = _Call(
            operation,
            method,
            url,
            json,
            form,
            params,
            max_bytes if max_bytes is not None else self._settings.max_response_bytes,
            too_large,
            accept,
        )
        attempts = self._settings.retry_attempts if method in {"GET", "DELETE"} else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._attempt(call)
            except _Retryable as failure:
                if attempt == attempts:
                    raise ProviderError(PROVIDER, operation, failure.detail) from None
                delay = self._delay(attempt, failure.retry_after)
                logger.warning(
                    "kaleyra %s attempt %d/%d failed (%s), retrying in %.2fs",
                    operation,
                    attempt,
                    attempts,
                    failure.detail,
                    delay,
                )
                await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt always returns or raises")  # pragma: no cover

    async def _attempt(self, call: _Call) -> Reply:
        headers = {"apikey": self._settings.api_key, "Accept": call.accept}
        if call.json is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                call.method,
                call.url,
                headers=headers,
                data=call.json if call.form is None else call.form,
                params=call.params,
                timeout=self._timeout,
                # A redirect would carry the apikey header to wherever it points.
                allow_redirects=False,
                # Statuses are judged here (404 on DELETE is fine), whatever the shared session prefers.
                raise_for_status=False,
            ) as response:
                if response.status in RETRYABLE_STATUSES:
                    raise _Retryable(f"status {response.status}", _retry_after(response.headers.get("Retry-After")))
                body = await _read_limited(response, call)
                reply = Reply(response.status, body, response.content_type, response.charset)
        # aiohttp's timeout errors are also ClientErrors: test for the timeout first.
        except TimeoutError:
            raise _Retryable("timed out") from None
        except aiohttp.ClientError:
            raise _Retryable("unreachable") from None
        if not 200 <= reply.status < 300:
            logger.warning("kaleyra %s answered status %d%s", call.operation, reply.status, _error_code(reply.body))
        return reply

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._settings.retry_after_cap_seconds)
        exponential = self._settings.retry_backoff_base_seconds * 2 ** (attempt - 1)
        ceiling = min(self._settings.retry_backoff_max_seconds, exponential)
        # Full jitter spreads out clients that failed together.
        return self._rng.uniform(0, ceiling)


def fail(operation: str, reply: Reply) -> ProviderError:
    return ProviderError(PROVIDER, operation, f"status {reply.status}")


async def _read_limited(response: aiohttp.ClientResponse, call: _Call) -> bytes:
    # Checked on the decoded stream, so a small compressed body cannot expand past the limit either.
    if response.content_length is not None and response.content_length > call.limit:
        raise ProviderError(PROVIDER, call.operation, call.too_large)
    if response.content_length is not None and hdrs.CONTENT_ENCODING not in response.headers:
        return await response.read()  # exactly the length checked above: one read instead of a chunk loop
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > call.limit:
            raise ProviderError(PROVIDER, call.operation, call.too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    # Only the delta-seconds form: an HTTP date would need a trustworthy clock and is rare for APIs.
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _error_code(body: bytes) -> str:
    try:
        error = msgspec.json.decode(body, type=ErrorBody).error
    except msgspec.DecodeError:
        return ""
    return f" ({error})" if error is not None and _LOGGABLE_CODE.fullmatch(error) else ""
