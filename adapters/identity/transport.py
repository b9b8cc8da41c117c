"""One JSON GET towards an identity service: forwarded headers, timeout, bounded body, error translation.

Nothing here logs or raises a URL, a header or a body: they carry cookies, tokens and user ids.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import aiohttp
import msgspec
from multidict import CIMultiDict

from application.dto import CallContext
from application.errors import IdentityServiceError
from application.request_context import current_request_id

CLIENT_TYPE_HEADER = "client-type"
# Framing and hop-by-hop headers describe the caller's own connection and must not be replayed on ours.
_NOT_FORWARDED = frozenset(
    {
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "content-type",
        "expect",
        "host",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

logger = logging.getLogger(__name__)


def forwarded_headers(context: CallContext, *, default_client_type: str | None = None) -> CIMultiDict[str]:
    """The caller's headers to pass on, plus `client-type` when the caller sent none (or an empty one)."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in context.forwarded_headers:
        if name.lower() in _NOT_FORWARDED:
            continue
        if name.lower() == CLIENT_TYPE_HEADER and not value.strip():
            continue  # an empty client type means none, as in Mia's custom-plugin-lib
        if any(character in value for character in "\r\n\0"):
            continue  # aiohttp would refuse the whole request; one bad header must not cost the lookup
        headers.add(name, value)
    if default_client_type is not None and CLIENT_TYPE_HEADER not in headers:
        headers[CLIENT_TYPE_HEADER] = default_client_type
    return headers


def unique_chunks(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    """The distinct ids, in first-seen order, in lists of at most `size`."""
    distinct = list(dict.fromkeys(ids))
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]


def in_query(field: str, values: Sequence[str]) -> dict[str, str]:
    """CRUD-style list query parameters selecting the documents whose `field` is one of `values`."""
    query = msgspec.json.encode({field: {"$in": list(values)}}).decode()
    return {"_q": query, "_l": str(len(values))}


async def get_json(
    session: aiohttp.ClientSession,
    service: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: CIMultiDict[str] | None = None,
    client_timeout: aiohttp.ClientTimeout,
    max_bytes: int,
) -> Any:
    """The decoded JSON body of a 2xx answer; raises IdentityServiceError("<service>", ...) otherwise."""
    request_headers: CIMultiDict[str] = CIMultiDict(headers or ())
    request_headers["Accept"] = "application/json"
    request_id = current_request_id.get()
    if request_id is not None:
        # The id the service answers under (the caller's, or one made up when it sent none or a malformed one).
        request_headers["x-request-id"] = request_id
    try:
        async with session.get(
            url,
            params=params,
            headers=request_headers,
            timeout=client_timeout,
            # A redirect would carry the caller's cookie and client type to wherever it points.
            allow_redirects=False,
            # Statuses are judged here, whatever the shared session prefers.
            raise_for_status=False,
        ) as response:
            if not 200 <= response.status < 300:
                logger.warning("%s answered status %d", service, response.status)
                raise IdentityServiceError(service, f"answered status {response.status}")
            body = await _read_limited(response, service, max_bytes)
    # aiohttp's timeout errors are also ClientErrors: test for the timeout first.
    except TimeoutError:
        logger.warning("%s timed out", service)
        raise IdentityServiceError(service, "timed out") from None
    except aiohttp.ClientError as error:
        logger.warning("%s unreachable (%s)", service, type(error).__name__)
        raise IdentityServiceError(service, "unreachable") from None
    try:
        return msgspec.json.decode(body)
    # Absurdly deep nesting exhausts the decoder's recursion limit rather than failing validation.
    except (msgspec.DecodeError, RecursionError):
        logger.warning("%s answered a body that is not JSON", service)
        raise IdentityServiceError(service, "answered a body that is not JSON") from None


def json_list(service: str, payload: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSON array answer; raises when the answer is not an array."""
    if not isinstance(payload, list):
        logger.warning("%s answered something other than a JSON array", service)
        raise IdentityServiceError(service, "answered something other than a JSON array")
    return [item for item in payload if isinstance(item, Mapping)]


async def _read_limited(response: aiohttp.ClientResponse, service: str, limit: int) -> bytes:
    # Counted on the decoded stream, so a small compressed body cannot expand past the limit either.
    if response.content_length is not None and response.content_length > limit:
        raise IdentityServiceError(service, "answered a body that is too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise IdentityServiceError(service, "answered a body that is too large")
        chunks.append(chunk)
    return b"".join(chunks)
