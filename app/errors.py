"""Domain errors (no HTTP status here) and the one table that maps them to problem+json responses."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.errors import DeadlockDetected, SerializationFailure
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.errors import GeometryError

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A failure the caller can understand and act on."""

    title = "Request cannot be processed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    """Input is well-formed JSON but wrong for the domain."""

    title = "Invalid input"


class NotFound(DomainError):
    """The record does not exist or the caller may not know it exists."""

    title = "Not found"


class Conflict(DomainError):
    """The request clashes with existing state (e.g. a duplicate phone)."""

    title = "Conflict"


class Forbidden(DomainError):
    """The caller's role may not do this."""

    title = "Forbidden"


class Unauthorized(DomainError):
    """No valid credentials."""

    title = "Unauthorized"


class TooManyRequests(DomainError):
    """Too many failures or too many held resources (e.g. live map streams); retry after a while."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int | None = None, **extra: Any) -> None:
        if retry_after_s is not None:
            extra["retry_after_s"] = retry_after_s
        super().__init__(detail, **extra)


class Unavailable(DomainError):
    """A dependency the request needs is down; trying again later may work."""

    title = "Service unavailable"


STATUS_BY_ERROR: dict[type[Exception], int] = {
    InvalidInput: 422,
    GeometryError: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthorized: 401,
    TooManyRequests: 429,
    Unavailable: 503,
}


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


def _status_for(exc: Exception) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def _format_location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request"


def install_error_handlers(app: FastAPI) -> None:
    """Map every expected failure to problem+json; database outages become 503, never a trace."""

    @app.exception_handler(DomainError)
    def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(_status_for(exc), exc.title, exc.detail, **exc.extra)

    @app.exception_handler(GeometryError)
    def _geometry(request: Request, exc: GeometryError) -> JSONResponse:
        return problem(422, "Invalid geometry", str(exc))

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
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

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
        raise exc
