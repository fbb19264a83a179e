"""HTTP routes for the reserve."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, Response, UploadFile, status

from app.api.deps import AdminToken, CoordinatorToken, SessionDep
from app.api.params import Id, Offset
from app.auth.service import actor_of
from app.callout import flows, personal_data
from app.errors import InvalidInput
from app.subject import service as subject
from app.subject.schemas import SubjectExport
from app.volunteer import importer, service
from app.volunteer.models import VolunteerStatus
from app.volunteer.schemas import (
    GeoPoint,
    VolunteerCreate,
    VolunteerPage,
    VolunteerRead,
    VolunteerUpdate,
)

router = APIRouter(prefix="/api/v1/volunteers", tags=["volunteers"])

MAX_IMPORT_BYTES = 20 * 1024 * 1024
PHONE_TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"description": "The phone belongs to another volunteer"}
}


@router.post("", status_code=status.HTTP_201_CREATED, responses=PHONE_TAKEN)
def create_volunteer(data: VolunteerCreate, session: SessionDep, token: CoordinatorToken) -> VolunteerRead:
    """Register a volunteer with their passport."""
    volunteer = service.create_volunteer(session, data=data, actor=actor_of(token))
    return service.to_read(service.get_volunteer(session, volunteer_id=volunteer.id))


@router.get("")
def list_volunteers(
    session: SessionDep,
    token: CoordinatorToken,
    skill: str | None = None,
    near: Annotated[str | None, Query(description="lon,lat of the search centre")] = None,
    within_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
    status_: Annotated[VolunteerStatus | None, Query(alias="status")] = None,
    phone_failed: Annotated[
        bool | None, Query(description="true: only numbers that failed for good, to correct")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> VolunteerPage:
    """A page of volunteers, filterable by valid skill and by distance from a point (nearest first)."""
    centre = parse_near(near)
    if within_km is not None and centre is None:
        raise InvalidInput("within_km needs near=lon,lat")
    items, total = service.list_volunteers(
        session,
        skill=skill,
        near=centre,
        within=within_km,
        status=status_,
        phone_failed=phone_failed,
        limit=limit,
        offset=offset,
    )
    return VolunteerPage(
        items=[service.to_read(v, distance=d) for v, d in items], total=total, limit=limit, offset=offset
    )


@router.post("/import", responses=PHONE_TAKEN)
def import_volunteers(
    file: Annotated[UploadFile, File(description="CSV, UTF-8: " + ",".join(importer.COLUMNS))],
    session: SessionDep,
    token: CoordinatorToken,
    upsert: Annotated[bool, Query(description="update volunteers whose phone is already registered")] = False,
) -> dict[str, int]:
    """Import volunteers from a CSV file: all rows or, if any row is wrong, none (422 lists every problem)."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, "the file is larger than 20 MB; split it and import each part"
        )
    summary = importer.import_volunteers(
        session, text=importer.decode_csv(data), actor=actor_of(token), upsert=upsert
    )
    if summary.errors:
        raise InvalidInput(
            f"{len(summary.errors)} problem(s) in the file; nothing was imported",
            errors=[asdict(e) for e in summary.errors],
        )
    return {"created": summary.created, "updated": summary.updated}


def parse_near(near: str | None) -> GeoPoint | None:
    """Turn `lon,lat` into a point, or say what is wrong with it."""
    if near is None:
        return None
    try:
        lon, lat = (float(p) for p in near.split(","))
    except ValueError as exc:
        raise InvalidInput(f"near must be 'lon,lat' (got {near!r})") from exc
    try:
        return GeoPoint(type="Point", coordinates=[lon, lat])
    except ValueError as exc:
        raise InvalidInput(f"near: {exc}") from exc


@router.get("/{volunteer_id}")
def get_volunteer(volunteer_id: Id, session: SessionDep, token: CoordinatorToken) -> VolunteerRead:
    """One volunteer."""
    return service.to_read(service.get_volunteer(session, volunteer_id=volunteer_id))


@router.get("/{volunteer_id}/export")
def export_volunteer(volunteer_id: Id, session: SessionDep, token: AdminToken) -> SubjectExport:
    """Everything held on one person, for a subject-access request."""
    return subject.export_volunteer(session, volunteer_id=volunteer_id)


@router.patch("/{volunteer_id}", responses=PHONE_TAKEN)
def update_volunteer(
    volunteer_id: Id,
    data: VolunteerUpdate,
    session: SessionDep,
    token: CoordinatorToken,
) -> VolunteerRead:
    """Change some of a volunteer's details; pausing or opting out releases their call-ups.

    A volunteer who opted out (STOP) can only opt back in themselves, by texting START: 409 otherwise.
    """
    flows.update_volunteer(session, volunteer_id=volunteer_id, data=data, actor=actor_of(token))
    return service.to_read(service.get_volunteer(session, volunteer_id=volunteer_id))


@router.delete("/{volunteer_id}", status_code=status.HTTP_204_NO_CONTENT)
def erase_volunteer(volunteer_id: Id, session: SessionDep, token: AdminToken) -> Response:
    """Erase a volunteer's personal data everywhere and release their call-ups; the audit trail keeps
    that it happened and by whom. Registering the phone again needs fresh consent (`consent_at`)."""
    personal_data.erase_volunteer(session, volunteer_id=volunteer_id, actor=actor_of(token))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
