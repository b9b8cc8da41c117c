"""One HTTP exchange with Kaleyra: headers, timeouts, bounded retries, the circuit breaker, error translation.

Nothing here logs or raises a URL, a header or a body: join links and patient data travel in them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache
from typing import NamedTuple, Protocol
from urllib.parse import quote

import aiohttp
from aiohttp import hdrs
from yarl import URL

from adapters.kaleyra.paths import checked_segments
from adapters.kaleyra.replies import PROVIDER, Reply, loggable_error_code, read_limited, retry_after_seconds
from adapters.kaleyra.settings import KaleyraSettings
from application.circuit_breaker import CircuitBreaker
from application.errors import ProviderError, ProviderUnavailable
from application.request_context import current_request_id

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
URLS_REMEMBERED = 4096

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class CallObserver(Protocol):
    def provider_call(self, provider: str, operation: str, outcome: str, seconds: float) -> None:
        """One logical call (retries included): `outcome` is "2xx".."5xx" for an answer, "failed" when no usable
        answer came, "short_circuited" when the open circuit refused it."""
        ...


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

    def __init__(self, detail: str, retry_after: float | None = None, *, answered: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.answered = answered  # False: no answer came, so the call may have been carried out


class KaleyraTransport:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: KaleyraSettings,
        *,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._sleep = sleep or asyncio.sleep
        self._rng = rng or random.SystemRandom()
        self._breaker = breaker
        self._observer = observer
        self._api_root = settings.api_root
        # Polling reads the same few rooms again and again; quoting and parsing their URL was 6 % of a read.
        self._url = lru_cache(maxsize=URLS_REMEMBERED)(self._build_url)
        self._timeout = aiohttp.ClientTimeout(
            total=settings.total_timeout_seconds, connect=settings.connect_timeout_seconds
        )

    def url(self, *segments: str) -> URL:
        return self._url(segments)

    def _build_url(self, segments: tuple[str, ...]) -> URL:
        # Quote every segment so an id can never add a path level or a query; dot segments are refused before.
        path = "/".join(quote(segment, safe="") for segment in checked_segments(segments))
        return URL(f"{self._api_root}/{path}", encoded=True)

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
        """The first non-retryable answer, 2xx or not; raises ProviderError when no answer came.

        Any answer counts as the provider being up; only the lack of one counts against it in the circuit breaker,
        so that a 4xx about the request itself never pauses everyone's calls.
        """
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
        # Not the loop's clock: asyncio.get_running_loop() makes a getpid system call on every use.
        started = time.monotonic()
        outcome = "abandoned"  # cancelled: the caller went away
        try:
            if self._breaker is None:
                reply = await self._with_retries(call)
            else:
                reply = await self._breaker.call(operation, lambda: self._with_retries(call))
            outcome = f"{reply.status // 100}xx"
        except ProviderUnavailable:
            outcome = "short_circuited"
            raise
        except ProviderError:
            outcome = "failed"
            raise
        finally:
            if self._observer is not None:
                elapsed = time.monotonic() - started
                self._observer.provider_call(PROVIDER, operation, outcome, elapsed)
        if reply.oversized:
            raise ProviderError(PROVIDER, operation, call.too_large, outcome_unknown=200 <= reply.status < 300)
        return reply

    async def _with_retries(self, call: _Call) -> Reply:
        operation = call.operation
        attempts = self._settings.retry_attempts if call.method in {"GET", "DELETE"} else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._attempt(call)
            except _Retryable as failure:
                if attempt == attempts:
                    raise ProviderError(
                        PROVIDER, operation, failure.detail, outcome_unknown=not failure.answered
                    ) from None
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
        request_id = current_request_id.get()
        if request_id is not None:
            headers["x-request-id"] = request_id
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
                    delay = retry_after_seconds(response.headers.get("Retry-After"))
                    raise _Retryable(f"status {response.status}", delay)
                body = await read_limited(response, call.limit)
                content_type = response.headers.get(hdrs.CONTENT_TYPE)
                reply = Reply(response.status, body or b"", content_type, body is None)
        # aiohttp's timeout errors are also ClientErrors: test for the timeout first.
        except TimeoutError:
            raise _Retryable("timed out", answered=False) from None
        except aiohttp.ClientError:
            raise _Retryable("unreachable", answered=False) from None
        if not 200 <= reply.status < 300:
            code = loggable_error_code(reply.body)
            logger.warning("kaleyra %s answered status %d%s", call.operation, reply.status, code)
        return reply

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._settings.retry_after_cap_seconds)
        exponential = self._settings.retry_backoff_base_seconds * 2 ** (attempt - 1)
        ceiling = min(self._settings.retry_backoff_max_seconds, exponential)
        # Full jitter spreads out clients that failed together.
        return self._rng.uniform(0, ceiling)
