"""Errors the use cases raise besides domain rule violations; adapters translate library errors into these."""

from __future__ import annotations


class ApplicationError(Exception):
    """Base class of the errors below."""


class NotFound(ApplicationError):
    """No live teleconsultation has this id."""

    def __init__(self, teleconsultation_id: str) -> None:
        self.teleconsultation_id = teleconsultation_id
        super().__init__(f"Room with id {teleconsultation_id} not found on CRUD")


class Unauthorized(ApplicationError):
    """The requester could not be identified or is not allowed to see this resource."""

    def __init__(self) -> None:
        super().__init__("Unauthorized user")


class InvalidRequest(ApplicationError):
    """The request is well formed but cannot be served as asked (unknown user, wrong mode)."""


class ConcurrentUpdate(ApplicationError):
    """Someone else changed the teleconsultation since it was read; the caller may retry."""

    def __init__(self, teleconsultation_id: str) -> None:
        self.teleconsultation_id = teleconsultation_id
        super().__init__("the teleconsultation was modified concurrently, retry the request")


class UserCreationInProgress(ApplicationError):
    """Another request holds the reservation of an external user id and is creating its provider user."""

    def __init__(self) -> None:
        # Generic on purpose: the external id is personal data.
        super().__init__("another request is still creating the provider user of a participant, retry the request")


class ReservationLost(ApplicationError):
    """The reservation of an external user id ran out and someone else took it over."""


class IdempotencyKeyReused(ApplicationError):
    """The Idempotency-Key came with another request body than the first time."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request body")


class IdempotencyKeyInFlight(ApplicationError):
    """The first request with this Idempotency-Key is still being served."""

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still in progress, retry later")


class StoreUnavailable(ApplicationError):
    """The database could not be reached or refused the operation."""


class StoredDocumentUnreadable(StoreUnavailable):
    """A stored document has a shape no version of the service ever wrote; the message names the field.

    Retrying does not help: an operator must repair the document (`python -m entrypoints migrate` lists them).
    """

    def __init__(self, document_id: str, field: str, problem: str, *, kind: str = "teleconsultation") -> None:
        self.document_id = document_id
        self.field = field
        super().__init__(f"the stored {kind} {document_id} cannot be read: its field {field} {problem}")


class ProviderError(ApplicationError):
    """The video provider failed: unreachable, timed out, or answered with an error.

    `outcome_unknown`: no usable answer came, so the provider may have carried the call out all the same (a reply
    lost on the way back); False when it answered with an error or was never asked.
    """

    def __init__(
        self, provider: str, operation: str, detail: str = "request failed", *, outcome_unknown: bool = False
    ) -> None:
        self.provider = provider
        self.operation = operation
        self.outcome_unknown = outcome_unknown
        super().__init__(f"{provider} {operation} {detail}")


class ProviderUnavailable(ProviderError):
    """The provider kept failing: its calls are paused (the circuit is open) and fail at once until a trial succeeds.

    A ProviderError like any other, so that whatever copes with a failed provider call copes with this one too.
    """

    def __init__(self, provider: str, operation: str, retry_after_seconds: int) -> None:
        super().__init__(provider, operation, "not attempted: the provider failed repeatedly, retry later")
        self.retry_after_seconds = retry_after_seconds


class ProviderUnsupported(ApplicationError):
    """The configured video provider has no such feature."""

    def __init__(self, provider: str, operation: str) -> None:
        self.provider = provider
        self.operation = operation
        super().__init__(f"the {provider} video provider does not support {operation}")


class IdentityServiceError(ApplicationError):
    """The identity service or the custom-id service failed to answer."""

    def __init__(self, service: str, detail: str = "request failed") -> None:
        self.service = service
        super().__init__(f"{service} {detail}")


class Forbidden(ApplicationError):
    """The requester is identified but lacks the group this operation needs."""

    def __init__(self) -> None:
        super().__init__("Forbidden")


class UnsupportedMediaType(ApplicationError):
    """The request carries content of a kind this operation does not accept."""


class ContentTooLarge(ApplicationError):
    """The request carries more data than this operation accepts."""


class TranscriptionUnavailable(ApplicationError):
    """No transcription can exist in the current configuration or state of the teleconsultation."""


class TranscriptionNotFound(ApplicationError):
    """The provider keeps no transcription for this session (unknown session, or not ready yet)."""

    def __init__(self) -> None:
        super().__init__("no transcription was found for this session")
