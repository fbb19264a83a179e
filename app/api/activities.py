"""Hours on the Volunteer Passport: organisations' activities, hours totals, a volunteer's passport."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile, status

from app.activity import importer, service
from app.activity.schemas import (
    ActivityCreate,
    ActivityPage,
    ActivityRead,
    Grouping,
    ImportResult,
    PassportRead,
    TotalsRead,
)
from app.api.deps import CoordinatorToken, RecorderToken, SessionDep, require_roles
from app.api.maps import AreaQuery
from app.api.params import Id, Offset
from app.auth.models import ApiToken, Role
from app.auth.service import actor_of
from app.errors import InvalidInput
from app.map.capacity import MIN_CELL_COUNT
from app.map.scope import scope_for
from app.passport.service import acting_for
from app.volunteer.importer import decode_csv

router = APIRouter(prefix="/api/v1/activities", tags=["activities"])
hours_router = APIRouter(prefix="/api/v1/hours", tags=["activities"])
passport_router = APIRouter(prefix="/api/v1/volunteers", tags=["volunteers"])

TotalsToken = Annotated[ApiToken, Depends(require_roles(Role.admin, Role.coordinator, Role.lrf_viewer))]
ROW_PROBLEMS: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid input; for a file, `errors` lists each row, column and problem"}
}


@router.post("", status_code=status.HTTP_201_CREATED)
def create_activity(data: ActivityCreate, session: SessionDep, token: RecorderToken) -> ActivityRead:
    """Record a non-emergency activity and who came; anyone whose hours reach a milestone is thanked.

    An organisation's token records its own activities only (403 for another organisation's), with its
    own members only (any other person is "no volunteer").
    """
    activity = service.create_activity(
        session, data=data, actor=actor_of(token), recorder=acting_for(session, token)
    )
    return service.to_read(
        activity,
        organisation=data.organisation.strip(),
        volunteer_ids=service.activity_volunteer_ids(session, activity_id=activity.id),
    )


@router.get("")
def list_activities(
    session: SessionDep,
    token: RecorderToken,
    organisation: Annotated[str | None, Query(max_length=200, description="organisation name")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> ActivityPage:
    """A page of activities, newest first; an organisation's token sees its own only."""
    items, total = service.list_activities(
        session,
        organisation=organisation,
        recorder=acting_for(session, token),
        limit=limit,
        offset=offset,
    )
    return ActivityPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/import", responses=ROW_PROBLEMS)
def import_activities(
    file: Annotated[UploadFile, File(description="CSV, UTF-8: " + ",".join(importer.COLUMNS))],
    session: SessionDep,
    token: RecorderToken,
) -> ImportResult:
    """Import activities from a CSV file, one a row: all rows or, if any is wrong, none (422 lists them).

    An organisation's token imports its own activities only, with its own members only.
    """
    summary = importer.import_activities(
        session,
        text=decode_csv(file.file.read()),
        actor=actor_of(token),
        recorder=acting_for(session, token),
    )
    if summary.errors:
        raise InvalidInput(
            f"{len(summary.errors)} problem(s) in the file; nothing was imported",
            errors=[asdict(e) for e in summary.errors],
        )
    return ImportResult(activities=summary.activities, attendances=summary.attendances)


@hours_router.get("/totals")
def hours_totals(
    session: SessionDep, token: TotalsToken, by: Grouping = Grouping.organisation, area: AreaQuery = None
) -> TotalsRead:
    """Hours given (deployments and activities) and different people, by organisation, area or skill.

    A forum viewer sees its own area only, and no group of fewer than five people: the maps' rule.
    """
    scope = scope_for(session, token, area_code=area)
    min_people = MIN_CELL_COUNT if scope.aggregates_only else 1
    rows = service.totals(session, by=by, area_id=scope.area_id, min_people=min_people)
    return TotalsRead(
        by=by,
        area=scope.area_code,
        suppressed_below=MIN_CELL_COUNT if scope.aggregates_only else None,
        rows=rows,
    )


@passport_router.get("/{volunteer_id}/passport")
def passport(volunteer_id: Id, session: SessionDep, token: CoordinatorToken) -> PassportRead:
    """A volunteer's passport: credentials, deployments and activities with their hours, milestones."""
    return service.passport(session, volunteer_id=volunteer_id)
