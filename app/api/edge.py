"""Limits applied to every request before any route runs: what one request may send."""

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem

# A JSON body of 1 MiB holds an incident area of over 20,000 vertices, twice the geometry limit, so the
# geometry check (geo.geojson.MAX_VERTICES) is the one users meet; paths that take files get more.
MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(HTTPException):
    """The body went over its limit while being read; the error handlers answer it as a 413 problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit:,} bytes")


class LimitBody:
    """Cap request bodies: by Content-Length before reading, and by counting for streamed bodies."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, by_path: Mapping[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.by_path = dict(by_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversize body at once; cut a streamed one off when it passes the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope["path"], self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> ASGIApp:
    """The 413 problem for a body over `limit`."""
    return problem(413, "Content too large", BodyTooLarge(limit).detail)


class RefuseNulInUrl:
    """A 422 for a path or query string holding NUL, which no PostgreSQL text can store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a URL with NUL at once; pass everything else through."""
        if scope["type"] == "http" and _has_nul(scope):
            response = problem(422, "Invalid input", "the URL must not contain the NUL character (%00)")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    """Whether the decoded path or the raw query string carries a NUL."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query
