"""An incident's progress as the API shows it: each need with its call-up counts, everyone called."""

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callout.models import Callout, CalloutStatus
from app.callout.selection import count_eligible
from app.callout.service import status_counts
from app.incident.models import Incident, IncidentStatus, Need
from app.incident.schemas import CalloutRead, IncidentRead, NeedRead, hours_between
from app.incident.service import get_incident, needs_of
from app.message.models import Message, MessageKind
from app.organisation.models import Organisation
from app.volunteer.models import Volunteer
from geo.geojson import to_geojson


def need_read(session: Session, need: Need) -> NeedRead:
    """A need with its call-up counts."""
    counts = status_counts(session, need.id)
    called = sum(counts.values())
    return NeedRead(
        skill=need.skill_code,
        count=need.count,
        called=called,
        accepted=counts[CalloutStatus.accepted],
        declined=counts[CalloutStatus.declined],
        pending=counts[CalloutStatus.called],
        stood_down=counts[CalloutStatus.stood_down],
        failed=counts[CalloutStatus.failed],
        filled=counts[CalloutStatus.accepted] >= need.count,
        waves=need.waves,
        search_radius_km=need.search_radius_km,
        exhausted=need.exhausted_at is not None,
        check_level=need.check_level,
        check_workforce=need.check_workforce,
    )


def to_read(session: Session, incident: Incident, *, unverified: bool = False) -> IncidentRead:
    """The API shape of an incident with progress per need; with `unverified`, an open incident's needs
    also count the people left out only because their credential awaits verification (for the
    coordinator's own view: a small count near a place is not for a forum's map)."""
    rendezvous = None
    if incident.rendezvous_point is not None:
        rendezvous = {
            "point": to_geojson(to_shape(incident.rendezvous_point)),
            "text": incident.rendezvous_text,
        }
    return IncidentRead(
        id=incident.id,
        title=incident.title,
        kind=incident.kind,
        status=incident.status,
        exercise=incident.exercise,
        emergency=incident.emergency,
        organisation=session.get_one(Organisation, incident.organisation_id).name
        if incident.organisation_id is not None
        else None,
        area=to_geojson(to_shape(incident.area)),
        radius_km=incident.radius_km,
        place=incident.place,
        rendezvous=rendezvous,
        starts_at=incident.starts_at,
        notes=incident.notes,
        overask=incident.overask,
        wave_timeout_s=incident.wave_timeout_s,
        max_radius_km=incident.max_radius_km,
        radius_step_km=incident.radius_step_km,
        created_at=incident.created_at,
        closed_at=incident.closed_at,
        close_reason=incident.close_reason,
        needs=[
            _with_unverified(session, incident, n, counted=unverified) for n in needs_of(session, incident.id)
        ],
    )


def _with_unverified(session: Session, incident: Incident, need: Need, *, counted: bool) -> NeedRead:
    read = need_read(session, need)
    if counted and incident.status is IncidentStatus.open and not read.filled:
        area = select(Incident.area).where(Incident.id == incident.id).scalar_subquery()
        read.unverified = count_eligible(
            session,
            area=area,
            skill=need.skill_code,
            radius_km=need.search_radius_km,
            starts_at=incident.starts_at,
            unverified=True,
            check=need.check,
            emergency=incident.emergency,
        )
    return read


def list_callouts(session: Session, *, incident_id: int, callout_id: int | None = None) -> list[CalloutRead]:
    """Everyone called for an incident (or one call-up), with what happened to their call-up."""
    get_incident(session, incident_id=incident_id)
    only = [Callout.id == callout_id] if callout_id is not None else []
    last_status = (
        select(Message.status)
        .where(Message.callout_id == Callout.id, Message.kind == MessageKind.callup)
        .order_by(Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Callout, Volunteer.name, Volunteer.phone, Need.skill_code, last_status)
        .join(Volunteer, Volunteer.id == Callout.volunteer_id)
        .join(Need, Need.id == Callout.need_id)
        .where(Callout.incident_id == incident_id, *only)
        .order_by(Callout.id)
    ).all()
    return [
        CalloutRead(
            id=c.id,
            volunteer_id=c.volunteer_id,
            name=name,
            phone=phone,
            skill=skill,
            wave=c.wave,
            distance_km=c.distance_km,
            status=c.status.value,
            reason=c.reason,
            called_at=c.called_at,
            answered_at=c.answered_at,
            last_message_status=status.value if status else None,
            eta_minutes=c.eta_minutes,
            checkin=c.checkin,
            arrived_at=c.arrived_at,
            done_at=c.done_at,
            hours=hours_between(c.arrived_at, c.done_at, c.entered_hours),
        )
        for c, name, phone, skill, status in rows
    ]


def callout_read(session: Session, *, incident_id: int, callout_id: int) -> CalloutRead:
    """One call-up of an incident as the API shows it."""
    return list_callouts(session, incident_id=incident_id, callout_id=callout_id)[0]
