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
from entrypoints.http.headers import ASCII_BLANKS, single_values, text
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
    Anything that does not resolve means no identity (None). A request that carries an identity header (user id,
    groups, user properties, client type, or the header `userIdPathInRequest` names) more than once, or one that is
    not UTF-8, is refused (RepeatedHeader, UndecodableHeader: 400) in every mode.
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
        identity_names = (headers.user_id, headers.groups, headers.user_properties, headers.client_type)
        self._identity_headers = frozenset(
            {*map(_header_name, identity_names), *([self._header_step[0]] if self._header_step else [])}
        )
        self._verifier = verifier
        identity = () if verifier else (headers.user_id, headers.groups, headers.user_properties)
        names = (*ALWAYS_FORWARDED, *identity, headers.client_type, *(name.lower() for name in forwarded))
        self._forwarded = frozenset(_header_name(name) for name in dict.fromkeys(names))

    async def requester(self, request: Request[Any, Any, Any]) -> Requester | None:
        """Who is calling; also the actor the events of this request name (application/request_context)."""
        found = await self._requester(request)
        if found is not None:
            current_actor.set(found.user_ids[0])
        return found

    async def _requester(self, request: Request[Any, Any, Any]) -> Requester | None:
        # Checked in every mode: the client type is forwarded in jwt mode too.
        found = single_values(request.scope["headers"], self._identity_headers)
        if self._verifier is not None:
            return await self._from_token(request)
        if self._header_step is not None:
            name, rest = self._header_step
            raw = found.get(name)
            value = None if raw is None else text(name, raw)
            user_id = _usable_id(follow(rest, value) if rest else value)
        else:
            user_id = _usable_id(follow(self._path, _request_object(request, self._path[0])))
        if user_id is None:
            return None
        raw_groups = found.get(self._groups_header)
        names = text(self._groups_header, raw_groups).split(",") if raw_groups is not None else ()
        return Requester(
            user_ids=(user_id,), groups=tuple(g.strip(ASCII_BLANKS) for g in names if g.strip(ASCII_BLANKS))
        )

    def context(self, request: Request[Any, Any, Any]) -> CallContext:
        """The headers to pass on, in the order they came, as the UTF-8 text the services called will be sent."""
        raw_headers = request.scope["headers"]
        single_values(raw_headers, self._identity_headers)
        forwarded = []
        for key, value in raw_headers:
            name = key.lower()
            if name in self._forwarded:
                decoded = text(name, value) if name in self._identity_headers else value.decode("utf-8", "replace")
                forwarded.append((name.decode("latin-1"), decoded))
        return CallContext(tuple(forwarded))

    async def _from_token(self, request: Request[Any, Any, Any]) -> Requester | None:
        assert self._verifier is not None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            identity = await self._verifier.verify(token.strip())
        except Unauthorized:
            return None
        return Requester(user_ids=(identity.user_id,), groups=identity.groups, scopes=identity.scopes)


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
    """A user id is a string or number (JSON user properties may hold either) not blank after trimming ASCII blanks."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value).strip(ASCII_BLANKS) or None


def _header_name(name: str, *, lower: bool = True) -> bytes:
    return (name.lower() if lower else name).encode("latin-1", errors="replace")


def _request_object(request: Request[Any, Any, Any], first_step: UserIdPathStep) -> dict[str, Any]:
    """The parts of the request a path can reach (the original exposes the Fastify request).

    Only the part the first step names is built: a path cannot reach the others, and this runs on every poll.
    """
    if first_step.source != "object" or first_step.extract not in _REQUEST_PARTS:
        return {}
    part = str(first_step.extract)
    return {part: _REQUEST_PARTS[part](request)}


_REQUEST_PARTS: dict[str | int, Callable[[Request[Any, Any, Any]], dict[str, Any]]] = {
    "headers": lambda request: {
        name.lower().decode("latin-1"): value.decode("utf-8", "replace") for name, value in request.scope["headers"]
    },
    "query": lambda request: dict(request.query_params),
    "params": lambda request: dict(request.path_params),
}
