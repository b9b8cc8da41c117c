"""Keeps the published OpenAPI document true to what the service accepts and answers.

Litestar documents every handler with its own validation-error body and loses some constraints of the bodies;
the service answers with its own error bodies (or RFC 9457 problem details when asked), and its routes read
their JSON bodies themselves, decoded once by msgspec (entrypoints/http/bodies.py).
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, PathItem, Reference, RequestBody
from litestar.routes import HTTPRoute

from entrypoints.http import schemas
from entrypoints.http.bodies import BODY_REQUIRED, BODY_TYPE, BODY_VALIDATION
from entrypoints.http.compatible_bodies import compatible_schemas
from entrypoints.http.errors import PROBLEM_JSON
from entrypoints.http.schemas import CrudError, ProblemDetails, ServiceError, Status, is_request_body
from entrypoints.settings import COMPATIBLE_BODIES

_REFERENCE = "#/components/schemas/{name}"
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Every struct the API reads or writes: all public structs of the schemas module.
_API_STRUCTS = tuple(
    value
    for name, value in vars(schemas).items()
    if isinstance(value, type)
    and issubclass(value, msgspec.Struct)
    and value.__module__ == schemas.__name__
    and not name.startswith("_")
)

# Why each status happens, and which of the two documented error bodies it carries.
_ERRORS: dict[int, tuple[Any, str]] = {
    400: (
        ServiceError | CrudError,
        "A rule was broken (`{error}`), or the body is malformed (`{statusCode, error, message}`)",
    ),
    401: (ServiceError, "The requester is not identified, or is not a participant of this teleconsultation"),
    404: (ServiceError, "No live teleconsultation has this id"),
    409: (ServiceError, "Inside the immutable period, or changed by another request first"),
    403: (ServiceError, "The requester is identified but lacks the group (or token scope) this action needs"),
    413: (ServiceError | CrudError, "The body is larger than the service accepts"),
    415: (
        ServiceError,
        "The body is not in the media type the route reads: JSON (`application/json`, UTF-8) on JSON routes, "
        "a multipart JPEG image on the upload",
    ),
    422: (ServiceError, "The Idempotency-Key was already used with another body"),
    501: (ServiceError, "The configured video provider lacks this feature"),
    502: (ServiceError, "The video provider or the identity service failed; nothing was half-written"),
    503: (ServiceError, "The store is unavailable; retry after the Retry-After delay"),
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The documented error answers of a handler, replacing Litestar's default validation-error body."""
    return {
        status: ResponseSpec(data_container=_ERRORS[status][0], description=_ERRORS[status][1], generate_examples=False)
        for status in statuses
    }


NO_CONTENT = {
    204: ResponseSpec(
        data_container=None, description="Nothing to do: the feature is turned off", generate_examples=False
    )
}
NOT_READY = {503: ResponseSpec(data_container=Status, description="The store does not answer", generate_examples=False)}
NOT_LIVE = {
    503: ResponseSpec(
        data_container=Status,
        description="The store is down and will not come back by itself: restart the service",
        generate_examples=False,
    )
}


class ExactJsonRenderPlugin(JsonRenderPlugin):
    """Serves the document with the body schemas msgspec derives from the structs it validates with."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, with_exact_body_schemas(openapi_schema, request.app.state[BODY_VALIDATION]))


class ExactSwaggerRenderPlugin(SwaggerRenderPlugin):
    """Swagger UI on the exact document: the page embeds the document it shows rather than fetching it."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, with_exact_body_schemas(openapi_schema, request.app.state[BODY_VALIDATION]))


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """What is served under /documentation: the JSON document first (also at /documentation itself), then two
    interactive pages on it. The pages load their scripts from a CDN (jsDelivr) in the reader's browser; the
    service itself fetches nothing, and without a network only the pages stay blank."""
    return [
        ExactJsonRenderPlugin(),
        ExactSwaggerRenderPlugin(path="/swagger"),
        # Scalar fetches the document from the JSON plugin's first path (/documentation): the exact one.
        ScalarRenderPlugin(path="/scalar"),
    ]


def with_exact_body_schemas(document: dict[str, Any], body_validation: str) -> dict[str, Any]:
    """The document with msgspec's schema for every body struct of the API, as the BODY_VALIDATION mode reads it.

    Litestar's own struct schemas drop constraints nested in lists and unions (e.g. a participant id's
    length) and ignore `forbid_unknown_fields`; msgspec's are exactly what it accepts and produces.
    """
    components = dict(document.get("components", {}))
    components["schemas"] = {**components.get("schemas", {}), **_body_schemas(body_validation)}
    return {**document, "components": components}


@functools.cache
def _body_schemas(body_validation: str) -> dict[str, Any]:
    _, definitions = msgspec.json.schema_components(_API_STRUCTS, ref_template=_REFERENCE)
    if body_validation != COMPATIBLE_BODIES:
        return definitions
    request_bodies = {struct.__name__: struct for struct in _API_STRUCTS if is_request_body(struct)}
    return compatible_schemas(definitions, request_bodies)


def document_problem_details(app: Litestar) -> None:
    """Every documented error can also come as problem details, when the client asks for them."""
    problem = OpenAPIMediaType(schema=Reference(ref=_REFERENCE.format(name=ProblemDetails.__name__)))
    for path_item in (app.openapi_schema.paths or {}).values():
        for method in _HTTP_METHODS:
            operation = _operation(path_item, method)
            for response in (operation.responses or {}).values() if operation else ():
                if isinstance(response, OpenAPIResponse) and response.content and _carries_an_error_body(response):
                    response.content[PROBLEM_JSON] = problem


def _carries_an_error_body(response: OpenAPIResponse) -> bool:
    """Only answers made by the error handlers can be problem details (a failed readiness probe cannot)."""
    media = (response.content or {}).get("application/json")
    schema = media.schema if media is not None else None
    choices = [schema] if isinstance(schema, Reference) else list(schema.one_of or []) if schema else []
    bodies = {_REFERENCE.format(name=body.__name__) for body in (ServiceError, CrudError)}
    return any(isinstance(choice, Reference) and choice.ref in bodies for choice in choices)


def document_json_bodies(app: Litestar) -> None:
    """The request body of every route that reads one with `read_json_body` (its `opt` names the struct)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path_item = (app.openapi_schema.paths or {}).get(route.path_format)
        for handler in route.route_handlers:
            body_type = handler.opt.get(BODY_TYPE)
            if path_item is None or body_type is None:
                continue
            schema = Reference(ref=_REFERENCE.format(name=body_type.__name__))
            for method in handler.http_methods:
                operation = _operation(path_item, method)
                if operation is not None:
                    operation.request_body = RequestBody(
                        content={"application/json": OpenAPIMediaType(schema=schema)},
                        required=handler.opt[BODY_REQUIRED],
                    )


def _operation(path_item: PathItem, method: str) -> Operation | None:
    operation = getattr(path_item, method.lower(), None)
    return operation if isinstance(operation, Operation) else None
