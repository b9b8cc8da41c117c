"""The id of the request being served, for log lines and for the services called on its behalf."""

from __future__ import annotations

from contextvars import ContextVar

# Set by the HTTP entry point (or the sweeper) for the task serving one request; None outside of one.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)

# Who asked for the change being made: the requester's id, set by the HTTP entry point once it has read the
# requester; None means the service acts on its own (a sweep, a provider's webhook) and events name "service".
current_actor: ContextVar[str | None] = ContextVar("current_actor", default=None)
