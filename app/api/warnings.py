"""HTTP routes for official warnings: CAP alerts and feeds, and Environment Agency responses, in; the
current and recent warnings out."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.api.deps import CoordinatorToken, CurrentToken, SessionDep
from app.api.maps import AreaQuery
from app.api.params import Offset
from app.auth.service import actor_of
from app.map.scope import scope_for
from app.warning import service
from app.warning.models import Severity
from app.warning.schemas import IngestItem, IngestResult, Outcome, WarningPage

router = APIRouter(prefix="/api/v1/warnings", tags=["warnings"])

_TEXT = {"schema": {"type": "string"}}
INGEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A CAP 1.2 alert, or an Atom or RSS feed of them; or an Environment Agency "
        "flood-monitoring `/id/floods` response.",
        "content": {
            "application/cap+xml": _TEXT,
            "application/xml": _TEXT,
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
INGEST_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {"description": "At least one new warning", "model": IngestResult},
    415: {"description": "The Content-Type is not CAP, XML or JSON"},
    422: {"description": "The document is malformed, hostile, over a limit or not valid CAP / EA data"},
}
UNCHANGED = (Outcome.duplicate, Outcome.stale)


async def raw_body(request: Request) -> bytes:
    """The request body as sent (its size is already capped by app.api.edge.LimitBody)."""
    return await request.body()


@router.post("", openapi_extra=INGEST_BODY, responses=INGEST_ANSWERS)
def ingest(
    request: Request,
    response: Response,
    data: Annotated[bytes, Depends(raw_body)],
    session: SessionDep,
    token: CoordinatorToken,
) -> IngestResult:
    """Ingest a document of warnings, all or nothing: 201 when it made a new warning, 200 when it only
    updated, withdrew or repeated known ones, 422 (saying what is wrong) for anything else."""
    report = service.ingest_document(
        session, data=data, media_type=request.headers.get("content-type", ""), actor=actor_of(token)
    )
    reads = service.read_warnings(session, report.items)
    response.status_code = status.HTTP_201_CREATED if report.created else status.HTTP_200_OK
    return IngestResult(
        created=report.created,
        updated=sum(i.outcome in (Outcome.updated, Outcome.withdrawn) for i in report.items),
        unchanged=sum(i.outcome in UNCHANGED for i in report.items),
        items=[IngestItem(outcome=i.outcome, warning=r) for i, r in zip(report.items, reads, strict=True)],
        links=report.links,
    )


@router.get("")
def list_warnings(
    session: SessionDep,
    token: CurrentToken,
    area: AreaQuery = None,
    severity: Annotated[list[Severity] | None, Query(description="any of these severities")] = None,
    recent_hours: Annotated[int, Query(ge=0, le=24 * 30, description="also those ended lately")] = 24,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> WarningPage:
    """Warnings in force, and those withdrawn, expired or changed in the last `recent_hours`; a forum
    sees those touching its own area only."""
    scope = scope_for(session, token, area_code=area)
    items, total = service.list_warnings(
        session,
        area_code=scope.area_code,
        severities=severity or [],
        recent=timedelta(hours=recent_hours),
        now=datetime.now(UTC),
        limit=limit,
        offset=offset,
    )
    return WarningPage(items=items, total=total)
