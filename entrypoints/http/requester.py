"""Who is calling: from the headers the platform's gateway sets, or from a verified bearer token."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request

from application.dto import CallContext, Requester
from application.errors import Unauthorized
from application.ports import TokenVerifier
from application.request_context import current_actor
from entrypoints.settings import IdentityHeaders

# Always passed on to the services called on the caller's behalf, like the platform's own plugins do. The request
# id is not among them: every outbound adapter sends the id the service answers under (application/request_context).
ALWAYS_FORWARDED = ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host")


@dataclass(frozen=True, slots=True)
class UserIdPathStep:
    source: str  # "object" | "json" | "array"
    extract: str | int


class RequesterReader:
    """Reads the requester and the headers to forward.

    In headers mode the id is found by following `userIdPathInRequest` over the request; in jwt mode only a
    verified `Authorization: Bearer` token counts and identity headers sent by the client are ignored.
    Anything that does not resolve means no identity (None), never an error.
    """

    def __init__(
        self,
        *,
        headers: IdentityHeaders,
        user_id_path: Sequence[UserIdPathStep] | None = None,
        verifier: TokenVerifier | None = None,
        forwarded: Sequence[str] = (),
    ) -> None:
        self._headers = headers
        self._path = tuple(
            user_id_path or (UserIdPathStep("object", "headers"), UserIdPathStep("object", headers.user_id))
        )
        # The usual path names one header: read just that header, not a map of all of them, on every poll.
        self._header_step: tuple[bytes, tuple[UserIdPathStep, ...]] | None = None
        if (
            len(self._path) >= 2
            and self._path[0] == UserIdPathStep("object", "headers")
            and self._path[1].source == "object"
        ):
            # As `follow` would see the name in the request object, whose header names are lower-cased.
            self._header_step = (_header_name(str(self._path[1].extract), lower=False), self._path[2:])
        self._groups_header = _header_name(headers.groups)
        self._verifier = verifier
        identity = () if verifier else (headers.user_id, headers.groups, headers.user_properties)
        names = (*ALWAYS_FORWARDED, *identity, headers.client_type, *(name.lower() for name in forwarded))
        self._forwarded = tuple(dict.fromkeys(names))

    async def requester(self, request: Request[Any, Any, Any]) -> Requester | None:
        """Who is calling; also the actor the events of this request name (application/request_context)."""
        found = await self._requester(request)
        if found is not None:
            current_actor.set(found.user_ids[0])
        return found

    async def _requester(self, request: Request[Any, Any, Any]) -> Requester | None:
        if self._verifier is not None:
            return await self._from_token(request)
        if self._header_step is not None:
            name, rest = self._header_step
            found = _header(request, name, last=True)
            user_id = _usable_id(follow(rest, found) if rest else found)
        else:
            user_id = _usable_id(follow(self._path, _request_object(request, self._path[0])))
        if user_id is None:
            return None
        groups = _header(request, self._groups_header, last=False) or ""
        return Requester(user_ids=(user_id,), groups=tuple(g.strip() for g in groups.split(",") if g.strip()))

    def context(self, request: Request[Any, Any, Any]) -> CallContext:
        headers = request.headers
        return CallContext(tuple((name, headers[name]) for name in self._forwarded if name in headers))

    async def _from_token(self, request: Request[Any, Any, Any]) -> Requester | None:
        assert self._verifier is not None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            identity = await self._verifier.verify(token.strip())
        except Unauthorized:
            return None
        return Requester(user_ids=(identity.user_id,), groups=identity.groups)


def follow(path: Sequence[UserIdPathStep], item: Any) -> Any:
    """Apply `userIdPathInRequest` steps; a step that does not fit gives None."""
    for step in path:
        if step.source == "json":
            if not isinstance(item, str | bytes):
                return None
            try:
                item = json.loads(item)
            except ValueError:
                return None
        if step.source == "array":
            index = step.extract
            if not isinstance(item, list) or not isinstance(index, int) or not -len(item) <= index < len(item):
                return None
            item = item[index]
        elif isinstance(item, Mapping):
            item = item.get(str(step.extract))
        else:
            return None
    return item


def _usable_id(value: Any) -> str | None:
    """A user id is a non-blank string or number (JSON user properties may hold either)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value).strip() or None


def _header_name(name: str, *, lower: bool = True) -> bytes:
    return (name.lower() if lower else name).encode("latin-1", errors="replace")


def _header(request: Request[Any, Any, Any], name: bytes, *, last: bool) -> str | None:
    """The header `name` (names compared lower-cased) straight from the raw headers, not a map of all of them.

    The first one is what `request.headers.get` gives; the last one is what `follow` finds in the request object.
    """
    found = None
    for key, value in request.scope["headers"]:
        if key.lower() == name:
            found = value
            if not last:
                break
    return None if found is None else str(found.decode("latin-1"))


def _request_object(request: Request[Any, Any, Any], first_step: UserIdPathStep) -> dict[str, Any]:
    """The parts of the request a path can reach (the original exposes the Fastify request).

    Only the part the first step names is built: a path cannot reach the others, and this runs on every poll.
    """
    if first_step.source != "object" or first_step.extract not in _REQUEST_PARTS:
        return {}
    part = str(first_step.extract)
    return {part: _REQUEST_PARTS[part](request)}


_REQUEST_PARTS: dict[str | int, Callable[[Request[Any, Any, Any]], dict[str, Any]]] = {
    "headers": lambda request: {name.lower(): value for name, value in request.headers.items()},
    "query": lambda request: dict(request.query_params),
    "params": lambda request: dict(request.path_params),
}
