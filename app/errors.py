"""Domain errors (no HTTP status on them) and the one table of the status each is answered with.

Services, flows and workers raise these; only the HTTP edge (app/api/problems.py) renders them, so
nothing here needs a web framework.
"""

from typing import Any

from alerts.safexml import DocumentError
from geo.errors import GeometryError


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


class UnsupportedMediaType(DomainError):
    """The body is of a Content-Type the route does not take."""

    title = "Unsupported media type"


# The HTTP status of each error, read by the edge; a subclass takes its nearest ancestor's.
STATUS_BY_ERROR: dict[type[Exception], int] = {
    InvalidInput: 422,
    GeometryError: 422,
    DocumentError: 422,
    UnsupportedMediaType: 415,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthorized: 401,
    TooManyRequests: 429,
    Unavailable: 503,
}
