"""The HTTP edge: the FastAPI application and what only HTTP needs (problems, deps, limits, access log)."""

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from alerts.safexml import MAX_DOCUMENT_BYTES
from app.api.access_log import AccessLog
from app.api.edge import MAX_BODY_BYTES, LimitBody, RefuseNulInUrl
from app.api.health import router as health_router
from app.api.metrics import router as metrics_router
from app.api.problems import document_problems, install_error_handlers
from app.logs import configure_logging


def create_app() -> FastAPI:
    """Build the API: routes, problem+json error handling, health and metrics."""
    # The domain routes import app.api.deps, so this package imports them only here, once it is loaded:
    # importing a route module first would otherwise meet this package half-built.
    from app.api.activities import hours_router
    from app.api.activities import passport_router as hours_passport_router
    from app.api.activities import router as activity_router
    from app.api.areas import router as area_router
    from app.api.asks import router as ask_router
    from app.api.checks import router as check_router
    from app.api.console import router as console_router
    from app.api.inbox import router as inbox_router
    from app.api.incidents import router as incident_router
    from app.api.maps import router as map_router
    from app.api.passport import router as passport_router
    from app.api.reports import router as report_router
    from app.api.signups import router as signup_router
    from app.api.verifications import router as verification_router
    from app.api.volunteers import MAX_IMPORT_BYTES
    from app.api.volunteers import router as volunteer_router
    from app.api.warnings import router as warning_router
    from app.api.webhooks import router as webhook_router

    configure_logging()
    # /docs and /redoc from the copies of Swagger UI and ReDoc packaged in fastapi-offline, not a CDN:
    # the docs must work on a laptop without internet, as the rest of the service does.
    app = FastAPIOffline(
        title="nvr: National Volunteer Reserve",
        version="0.1.0",
        description="Find nearby volunteers with verified skills, call them up by SMS, fill each need.",
        # No OpenTelemetry here (metrics are Prometheus, /metrics): without this FastAPI looks for a
        # tracer, meter and logger provider on every request, a twentieth of a sign-up's time.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    document_problems(app)
    app.add_middleware(RefuseNulInUrl)
    # The import's file may be 20 MB; its multipart frame gets room on top.
    import_limit = MAX_IMPORT_BYTES + 1024 * 1024
    # A CAP document may carry a detailed outline (the NWS's reach 1.7 MB). Its parser's own limit answers
    # a document over MAX_DOCUMENT_BYTES with a 422 saying so; the edge cuts off twice that unread.
    limits = {"/api/v1/volunteers/import": import_limit, "/api/v1/warnings": 2 * MAX_DOCUMENT_BYTES}
    app.add_middleware(LimitBody, max_bytes=MAX_BODY_BYTES, by_path=limits)
    app.add_middleware(AccessLog)  # outermost: every answer is logged, the edge's refusals too
    # Routes are tried in order: the public ones that come in floods (webhooks, sign-ups) first.
    app.include_router(webhook_router)
    app.include_router(signup_router)
    app.include_router(volunteer_router)
    app.include_router(hours_passport_router)
    app.include_router(activity_router)
    app.include_router(hours_router)
    app.include_router(verification_router)
    app.include_router(incident_router)
    app.include_router(ask_router)
    app.include_router(report_router)
    app.include_router(inbox_router)
    app.include_router(area_router)
    app.include_router(warning_router)
    app.include_router(map_router)
    app.include_router(console_router)
    app.include_router(passport_router)
    app.include_router(check_router)
    app.include_router(health_router)
    app.include_router(metrics_router)

    return app
