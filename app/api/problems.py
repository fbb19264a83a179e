"""Failures as RFC 9457 problem+json: the HTTP rendering of domain errors, database outages and the rest.

The status of each domain error comes from app.errors.STATUS_BY_ERROR; this module only renders.
"""

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request, routing
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.errors import DeadlockDetected, SerializationFailure
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerts.safexml import DocumentError
from app.errors import STATUS_BY_ERROR, DomainError
from app.logs import describe
from geo.errors import GeometryError

PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger(__name__)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem; a 422 lists each invalid field in `errors`.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {"type": "object", "properties": {"field": {}, "message": {"type": "string"}}},
        },
    },
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status == 429 and "retry_after_s" in extra:
        headers["Retry-After"] = str(extra["retry_after_s"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _busy(detail: str) -> JSONResponse:
    """Overload, not an outage: the database is up, retry in a moment."""
    response = problem(503, "Service busy", detail)
    response.headers["Retry-After"] = "1"
    return response


def status_for(exc: Exception) -> int:
    """The HTTP status a domain error is answered with (500 for anything unexpected)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def _phrase(status: int) -> str:
    """The standard reason phrase of a status, as a problem's title."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _format_location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request"


def install_error_handlers(app: FastAPI) -> None:
    """Map every expected failure to problem+json; database outages become 503, never a trace."""

    @app.exception_handler(DomainError)
    def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(status_for(exc), exc.title, exc.detail, **exc.extra)

    @app.exception_handler(GeometryError)
    def _geometry(request: Request, exc: GeometryError) -> JSONResponse:
        return problem(422, "Invalid geometry", str(exc))

    @app.exception_handler(DocumentError)
    def _document(request: Request, exc: DocumentError) -> JSONResponse:
        return problem(422, "Invalid document", str(exc))

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _format_location(e.get("loc", ())), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Invalid input", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, _phrase(exc.status_code), str(exc.detail))

    @app.exception_handler(OperationalError)
    def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        if isinstance(exc.orig, DeadlockDetected | SerializationFailure):  # a conflict, not an outage
            return _busy("A conflicting change was in progress; retry.")
        return problem(503, "Service unavailable", "The database is unavailable; try again shortly.")

    @app.exception_handler(PoolTimeout)
    def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        return _busy("Too many requests at once; retry shortly.")

    @app.exception_handler(DBAPIError)
    def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return problem(503, "Service unavailable", "The database connection was lost; try again.")
        # The driver's message can quote row values (personal data): log its codes, never its text.
        log.error("db.error_rolled_back", method=request.method, path=request.url.path, error=describe(exc))
        return internal_error()

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("request.failed", method=request.method, path=request.url.path, error=describe(exc))
        return internal_error()


def internal_error() -> JSONResponse:
    """A 500 as problem+json: the request's transaction was rolled back, so nothing happened."""
    return problem(500, "Internal server error", "The request failed and nothing was changed; try again.")


def document_problems(app: FastAPI) -> None:
    """Make /openapi.json list, for each operation, the problem+json answers it can give."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_problems(build(), role_checked=_role_checked(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


ROLE_CHECKS = frozenset({"current_token", "verifier_token", "recorder_token"})


def _role_checked(app: FastAPI) -> set[tuple[str, str]]:
    """(path, method) of the operations behind a role check (`app.api.deps.require_roles`, and
    `current_token`, `verifier_token` and `recorder_token`, which refuse or admit an organisation's
    verifier): those can 403."""

    def checks(call: Any) -> bool:
        name = getattr(call, "__qualname__", "")
        return name.startswith("require_roles.") or name in ROLE_CHECKS

    def checks_role(dependant: Dependant) -> bool:
        return any(checks(d.call) or checks_role(d) for d in dependant.dependencies)

    found: set[tuple[str, str]] = set()
    for route in routing.iter_route_contexts(app.routes):  # routes of included routers too
        dependant = getattr(route, "dependant", None)
        if isinstance(dependant, Dependant) and checks_role(dependant):
            found |= {(str(route.path_format), method.lower()) for method in route.methods or ()}
    return found


def _with_problems(schema: dict[str, Any], *, role_checked: set[tuple[str, str]]) -> dict[str, Any]:
    """The schema with every 4xx/5xx as problem+json, replacing FastAPI's own validation error shape."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = PROBLEM_SCHEMA
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            problems = _problems_of(path, method, operation, role_checked=(path, method) in role_checked)
            for status, description in problems.items():
                responses.setdefault(str(status), {"description": description})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = _PROBLEM_CONTENT
    return schema


def _problems_of(path: str, method: str, operation: dict[str, Any], *, role_checked: bool) -> dict[int, str]:
    """The error statuses an operation gives, read from what it declares: auth, path, query, body."""
    found = {422: "Invalid input: `errors` says which field and why"}
    if operation.get("security"):
        found[401] = "No bearer token, or an unknown, revoked or expired one"
        found[429] = "Too many failed authentications from this client; wait `Retry-After` seconds"
    if role_checked:
        found[403] = "The token's role may not do this"
    if path.startswith("/webhooks/"):
        found[403] = "Missing or invalid X-Twilio-Signature"
    names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") in ("path", "query")}
    if "{" in path or "area" in names:
        found[404] = "Not found, or outside the caller's area"
    if "requestBody" in operation:
        found[400] = "The body cannot be read as its Content-Type says"
        found[413] = "The request body is over its size limit"
    found[500] = "The request failed and nothing was changed"
    found[503] = "The database is unavailable; try again shortly"
    return found
