"""The one place where errors become HTTP responses.

Documented errors keep the original service's exact bodies; everything else keeps the CRUD-service
shape `{statusCode, error, message}`. A client that asks for `application/problem+json` gets RFC 9457
problem details instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import ParameterKwarg

from application.errors import (
    ConcurrentUpdate,
    ContentTooLarge,
    Forbidden,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    IdentityServiceError,
    InvalidRequest,
    NotFound,
    ProviderError,
    ProviderUnavailable,
    ProviderUnsupported,
    StoredDocumentUnreadable,
    StoreUnavailable,
    TranscriptionNotFound,
    TranscriptionUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    UserCreationInProgress,
)
from domain.errors import DomainError, TeleconsultationLocked
from entrypoints.http.headers import RepeatedHeader, UndecodableHeader
from entrypoints.http.schemas import CrudError, ProblemDetails, ServiceError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://teleconsultation-service.dev/problems/"

AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, Exception], Response[Any]]


def failed_prefix(request: AnyRequest) -> str:
    """The route as the original words it in errors.

    Trailing path parameters are left out ('Failed PATCH /teleconsultation' for /teleconsultation/{id});
    inner ones are filled in ('Failed DELETE /teleconsultation/<id>/uploads').
    """
    template: str = request.scope.get("path_template") or request.url.path
    segments = template.rstrip("/").split("/")
    while segments and segments[-1].startswith("{"):
        segments.pop()
    if any(segment.startswith("{") for segment in segments):
        segments = request.url.path.split("/")[: len(segments)]
    return f"Failed {request.method} {'/'.join(segments) or '/'}"


def _wants_problem(request: AnyRequest) -> bool:
    return PROBLEM_JSON in request.headers.get("accept", "")


def _respond(
    request: AnyRequest, status: int, body: msgspec.Struct, *, problem_type: str, detail: str, headers: dict[str, str]
) -> Response[Any]:
    if _wants_problem(request):
        problem = ProblemDetails(
            type=PROBLEM_TYPE_BASE + problem_type,
            title=HTTPStatus(status).phrase,
            status=status,
            detail=detail,
            instance=request.url.path,
        )
        return Response(problem, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def service_error(status: int, problem_type: str, *, prefixed: bool = True, retry_after: int | None = None) -> Handler:
    def handle(request: AnyRequest, exc: Exception) -> Response[Any]:
        message = f"{failed_prefix(request)}: {exc}" if prefixed else str(exc)
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        return _respond(
            request, status, ServiceError(message), problem_type=problem_type, detail=message, headers=headers
        )

    return handle


def handle_provider_unavailable(request: AnyRequest, exc: Exception) -> Response[Any]:
    assert isinstance(exc, ProviderUnavailable)
    return service_error(503, "provider-unavailable", retry_after=exc.retry_after_seconds)(request, exc)


def crud_error(request: AnyRequest, status: int, message: str, problem_type: str) -> Response[Any]:
    body = CrudError(statusCode=status, error=HTTPStatus(status).phrase, message=message)
    return _respond(request, status, body, problem_type=problem_type, detail=message, headers={})


def handle_validation(request: AnyRequest, exc: Exception) -> Response[Any]:
    assert isinstance(exc, ValidationException)
    return crud_error(request, 400, _validation_message(request, exc), "invalid-request")


def handle_http(request: AnyRequest, exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if isinstance(exc, NotFoundException):
        message = f"Route {request.method}:{request.url.path} not found"
    elif status == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    elif status == 400:
        message = f"the request body could not be read: {exc.detail}"
    else:
        message = exc.detail
    response = crud_error(request, status, message, HTTPStatus(status).phrase.lower().replace(" ", "-"))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def handle_unexpected(request: AnyRequest, exc: Exception) -> Response[Any]:
    # The stack trace goes to the log, never to the caller; request bodies are never logged.
    logger.error("unhandled error on %s %s", request.method, request.scope.get("path_template", "?"), exc_info=exc)
    return crud_error(request, 500, "Something went wrong", "internal-error")


# Where a handler argument can have another name on the wire.
_PARAMETER_SOURCES = frozenset({"query", "header", "cookie"})


def _validation_message(request: AnyRequest, exc: ValidationException) -> str:
    problems = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for problem in problems:
        if not isinstance(problem, dict):
            continue
        source = problem.get("source", "body")
        # Litestar gives the source as a ParamType (str() of which is "ParamType.QUERY") and the key as the
        # handler's argument name; callers know them as "query" and the parameter's name on the wire.
        source = source.value if isinstance(source, Enum) else str(source)
        key = problem.get("key")
        if source in _PARAMETER_SOURCES:
            key = _wire_name(request, key)
        text = str(problem.get("message", "is invalid"))
        if key == "data" and text == "'data'":
            # How Litestar reports a request without a body: the name of the missing argument.
            text = "a JSON body is required"
        # Litestar names the whole body "data"; callers know it as the body.
        where = source if key in (None, "", "data") else f"{source}.{key}"
        parts.append(f"{where}: {text}")
    if parts:
        return "; ".join(parts)
    return str(exc.detail or "the request is invalid")


def _wire_name(request: AnyRequest, key: Any) -> Any:
    """The name a handler's argument has in the request (`useBackground` for `use_background`), else `key`."""
    handler = request.scope.get("route_handler")
    parameter = handler.parsed_fn_signature.parameters.get(key) if handler is not None and key else None
    definition = getattr(parameter, "kwarg_definition", None)
    if isinstance(definition, ParameterKwarg):
        return definition.name or definition.query or definition.header or definition.cookie or key
    return key


EXCEPTION_HANDLERS: dict[type[Exception] | int, Handler] = {
    TeleconsultationLocked: service_error(409, "teleconsultation-locked"),
    DomainError: service_error(400, "rule-violated"),
    RepeatedHeader: service_error(400, "repeated-header"),
    UndecodableHeader: service_error(400, "undecodable-header"),
    InvalidRequest: service_error(400, "invalid-request"),
    NotFound: service_error(404, "not-found", prefixed=False),
    Unauthorized: service_error(401, "unauthorized", prefixed=False),
    Forbidden: service_error(403, "forbidden", prefixed=False),
    ContentTooLarge: service_error(413, "content-too-large"),
    UnsupportedMediaType: service_error(415, "unsupported-media-type"),
    TranscriptionUnavailable: service_error(409, "transcription-unavailable"),
    TranscriptionNotFound: service_error(404, "transcription-not-found"),
    ConcurrentUpdate: service_error(409, "concurrent-update"),
    UserCreationInProgress: service_error(409, "user-creation-in-progress", retry_after=1),
    IdempotencyKeyInFlight: service_error(409, "idempotency-key-in-flight", retry_after=1),
    IdempotencyKeyReused: service_error(422, "idempotency-key-reused"),
    ProviderUnsupported: service_error(501, "provider-unsupported"),
    ProviderUnavailable: handle_provider_unavailable,
    ProviderError: service_error(502, "provider-failed"),
    IdentityServiceError: service_error(502, "identity-service-failed"),
    # A document no version of the service wrote: no Retry-After, retrying does not help (an operator must repair it).
    StoredDocumentUnreadable: service_error(503, "stored-document-unreadable"),
    StoreUnavailable: service_error(503, "store-unavailable", retry_after=5),
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}
