"""One structured log line per HTTP request: what was asked, the answer, how long it took, by whom;
and the same time in the latency histogram, by route template."""

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import HTTP_LATENCY

log = structlog.get_logger("nvr.access")

# The authentication dependency puts (token id, token name) under this key of the request's state.
CALLER = "caller"


class AccessLog:
    """Logs method, path (never the query string, where secrets end up), status, time and token name."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and log it once the response has started (or the app has failed)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        status = 500  # what the server sends when the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed = time.perf_counter() - started
            HTTP_LATENCY.labels(route_of(scope), scope["method"]).observe(elapsed)
            caller = state.get(CALLER)
            log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 1),
                token_id=caller[0] if caller else None,
                token=caller[1] if caller else None,
            )


def route_of(scope: Scope) -> str:
    """The matched route's template (`/api/v1/incidents/{incident_id}`), never the path itself, so a
    histogram's labels stay few whatever is asked; "unmatched" for a 404 of no route."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else "unmatched"
