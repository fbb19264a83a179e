"""HTTP routes for organisations' asks for help that are not emergencies.

An ask is an incident with `emergency` false: it goes through the same declaration, selection, waves
and replies, every text marked as not an emergency. An organisation's own token (`org_verifier`) posts,
lists, reads and closes its own asks only; admins and coordinators act for any organisation, and also
change an ask through the incident routes.
"""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import CoordinatorToken, RecorderToken, SessionDep, SettingsDep
from app.api.params import Id, Offset
from app.auth.service import actor_of
from app.callout import flows, progress
from app.callout import service as callouts
from app.callout.preview import preview_incident
from app.callout.schemas import IncidentPreview
from app.incident import service
from app.incident.models import IncidentStatus
from app.incident.schemas import AskCreate, IncidentClose, IncidentPage, IncidentRead
from app.passport.service import acting_for

router = APIRouter(prefix="/api/v1/asks", tags=["asks"])


@router.post("", status_code=status.HTTP_201_CREATED)
def post_ask(
    data: AskCreate, session: SessionDep, token: RecorderToken, settings: SettingsDep
) -> IncidentRead:
    """Ask for help that is not an emergency; the first wave of call-ups starts at once.

    An organisation's token asks for its own organisation only (403 when it names another); admins and
    coordinators name the organisation asking.
    """
    ask = flows.post_ask(
        session, data=data, recorder=acting_for(session, token), actor=actor_of(token), settings=settings
    )
    return progress.to_read(session, ask)


@router.post("/preview")
def preview(
    data: AskCreate, session: SessionDep, token: CoordinatorToken, settings: SettingsDep
) -> IncidentPreview:
    """How many eligible volunteers each need of an ask would have (not those who asked for emergencies
    only), within the radius and the maximum radius; nothing is written."""
    return preview_incident(session, data=data, settings=settings, emergency=False)


@router.get("")
def list_asks(
    session: SessionDep,
    token: RecorderToken,
    status_: Annotated[IncidentStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> IncidentPage:
    """Asks, newest first; an organisation's token sees its own only."""
    recorder = acting_for(session, token)
    items, total = service.list_incidents(
        session,
        status=status_,
        limit=limit,
        offset=offset,
        emergency=False,
        organisation_id=recorder.id if recorder is not None else None,
    )
    return IncidentPage(items=[progress.to_read(session, i) for i in items], total=total)


@router.get("/{ask_id}")
def get_ask(ask_id: Id, session: SessionDep, token: RecorderToken) -> IncidentRead:
    """An ask and, for each need, how many were called, accepted, declined and are pending (404 for an
    emergency, and for another organisation's ask to an organisation's token)."""
    return progress.to_read(
        session, service.get_ask(session, ask_id=ask_id, recorder=acting_for(session, token))
    )


@router.post("/{ask_id}/close")
def close(
    ask_id: Id, session: SessionDep, token: RecorderToken, data: IncidentClose | None = None
) -> IncidentRead:
    """Close an ask: everyone still asked is stood down, everyone confirmed is told; the reason is kept
    and texted to them all. An organisation's token closes its own asks only."""
    service.get_ask(session, ask_id=ask_id, recorder=acting_for(session, token))
    reason = data.reason if data is not None else None
    callouts.close_incident(session, incident_id=ask_id, actor=actor_of(token), reason=reason)
    return progress.to_read(session, service.get_incident(session, incident_id=ask_id))
