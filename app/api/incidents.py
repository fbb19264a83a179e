"""HTTP routes for incidents."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.activity.service import award_milestones
from app.api.deps import CoordinatorToken, SessionDep, SettingsDep
from app.api.params import Id, Offset
from app.auth.service import actor_of
from app.callout import flows, progress
from app.callout import service as callouts
from app.callout.preview import preview_incident
from app.callout.schemas import IncidentPreview, Timeline
from app.callout.timeline import incident_timeline
from app.incident import service
from app.incident.models import IncidentStatus
from app.incident.schemas import (
    AttendanceUpdate,
    CalloutRead,
    CalloutRelease,
    IncidentClose,
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    IncidentUpdate,
    UpdateSend,
    UpdateSent,
)

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
    """An incident and, for each need, how many were called, accepted, declined and are pending, and
    while it is open and short, how many nearby were left out only because they are not verified yet."""
    return progress.to_read(session, service.get_incident(session, incident_id=incident_id), unverified=True)


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
    settings: SettingsDep,
) -> IncidentRead:
    """Change an open incident: counts (raising asks again those stood down, then calls new people;
    lowering stands down the surplus), new needs, the search radius and its maximum, the rendezvous
    (texted to everyone confirmed), notes."""
    incident = flows.update_incident(
        session, incident_id=incident_id, data=data, actor=actor_of(token), settings=settings
    )
    return progress.to_read(session, incident)


@router.post("/{incident_id}/update")
def send_update(
    incident_id: Id, data: UpdateSend, session: SessionDep, token: CoordinatorToken
) -> UpdateSent:
    """Text everyone confirmed ("go to X instead"); 422 when it would not fit in two SMS segments."""
    sent = callouts.send_update(session, incident_id=incident_id, body=data.text, actor=actor_of(token))
    return UpdateSent(sent=sent)


@router.post("/{incident_id}/callouts/{callout_id}/release")
def release(
    incident_id: Id, callout_id: Id, data: CalloutRelease, session: SessionDep, token: CoordinatorToken
) -> CalloutRead:
    """Release one person (asked or confirmed): they are told, and the next candidate is called."""
    callouts.release_callout(
        session, incident_id=incident_id, callout_id=callout_id, reason=data.reason, actor=actor_of(token)
    )
    return progress.callout_read(session, incident_id=incident_id, callout_id=callout_id)


@router.post(
    "/{incident_id}/callouts/{callout_id}/attendance",
    responses={409: {"description": "The person was not confirmed, so has no attendance"}},
)
def attendance(
    incident_id: Id, callout_id: Id, data: AttendanceUpdate, session: SessionDep, token: CoordinatorToken
) -> CalloutRead:
    """Enter when a confirmed person arrived and finished (also after the close); hours follow, and a
    milestone they reach is thanked."""
    callout = callouts.record_attendance(
        session,
        incident_id=incident_id,
        callout_id=callout_id,
        arrived_at=data.arrived_at,
        done_at=data.done_at,
        hours=data.hours,
        fields=data.model_fields_set,
        actor=actor_of(token),
    )
    award_milestones(session, volunteer_ids=[callout.volunteer_id])
    return progress.callout_read(session, incident_id=incident_id, callout_id=callout_id)


@router.post("/{incident_id}/close")
def close(
    incident_id: Id, session: SessionDep, token: CoordinatorToken, data: IncidentClose | None = None
) -> IncidentRead:
    """Close the incident: everyone still asked is stood down, everyone confirmed is told (they stay
    confirmed in the record); the reason is kept and texted to them all."""
    reason = data.reason if data is not None else None
    callouts.close_incident(session, incident_id=incident_id, actor=actor_of(token), reason=reason)
    return progress.to_read(session, service.get_incident(session, incident_id=incident_id))
