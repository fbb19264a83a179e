"""HTTP routes for incidents."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import CoordinatorToken, SessionDep, SettingsDep
from app.api.params import Id, Offset
from app.auth.service import actor_of
from app.callout import flows, progress
from app.callout.preview import preview_incident
from app.callout.schemas import IncidentPreview, Timeline
from app.callout.service import close_incident
from app.callout.timeline import incident_timeline
from app.incident import service
from app.incident.models import IncidentStatus
from app.incident.schemas import CalloutRead, IncidentCreate, IncidentPage, IncidentRead, IncidentUpdate

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.post("", status_code=status.HTTP_201_CREATED)
def declare(
    data: IncidentCreate, session: SessionDep, token: CoordinatorToken, settings: SettingsDep
) -> IncidentRead:
    """Declare an incident; the first wave of call-ups starts at once."""
    incident = flows.declare_incident(session, data=data, actor=actor_of(token), settings=settings)
    return progress.to_read(session, incident)


@router.post("/preview")
def preview(
    data: IncidentCreate, session: SessionDep, token: CoordinatorToken, settings: SettingsDep
) -> IncidentPreview:
    """How many eligible volunteers each need would have, within the radius and the maximum radius.

    The real selection query on the same body as a declaration; nothing is written.
    """
    return preview_incident(session, data=data, settings=settings)


@router.get("")
def list_incidents(
    session: SessionDep,
    token: CoordinatorToken,
    status_: Annotated[IncidentStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> IncidentPage:
    """Incidents, newest first."""
    items, total = service.list_incidents(session, status=status_, limit=limit, offset=offset)
    return IncidentPage(items=[progress.to_read(session, i) for i in items], total=total)


@router.get("/{incident_id}")
def get_incident(incident_id: Id, session: SessionDep, token: CoordinatorToken) -> IncidentRead:
    """An incident and, for each need, how many were called, accepted, declined and are pending."""
    return progress.to_read(session, service.get_incident(session, incident_id=incident_id))


@router.get("/{incident_id}/callouts")
def list_callouts(incident_id: Id, session: SessionDep, token: CoordinatorToken) -> list[CalloutRead]:
    """Who was called, when, and what happened."""
    return progress.list_callouts(session, incident_id=incident_id)


@router.get("/{incident_id}/timeline")
def timeline(incident_id: Id, session: SessionDep, token: CoordinatorToken) -> Timeline:
    """Every event of the incident in order: declared, waves, answers, fills, stand-downs, who acted."""
    return incident_timeline(session, incident_id=incident_id)


@router.patch("/{incident_id}")
def update(
    incident_id: Id,
    data: IncidentUpdate,
    session: SessionDep,
    token: CoordinatorToken,
) -> IncidentRead:
    """Change need counts: raising calls more people, lowering stands down the surplus."""
    incident = flows.update_incident(session, incident_id=incident_id, data=data, actor=actor_of(token))
    return progress.to_read(session, incident)


@router.post("/{incident_id}/close")
def close(incident_id: Id, session: SessionDep, token: CoordinatorToken) -> IncidentRead:
    """Close the incident and stand everyone down."""
    close_incident(session, incident_id=incident_id, actor=actor_of(token))
    return progress.to_read(session, service.get_incident(session, incident_id=incident_id))
