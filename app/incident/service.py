"""Declaring, reading, changing and closing incidents."""

from datetime import UTC, datetime

from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.service import record
from app.callout import service as callouts
from app.callout.models import Callout, CalloutStatus
from app.errors import InvalidInput, NotFound
from app.incident.models import Incident, IncidentStatus, Need
from app.incident.schemas import (
    MAX_AREA_KM2,
    CalloutRead,
    IncidentCreate,
    IncidentRead,
    IncidentUpdate,
    NeedRead,
)
from app.message.models import Message, MessageKind
from app.settings import Settings
from app.volunteer.models import Volunteer
from app.volunteer.service import check_skill_codes, point_element
from geo.distance import haversine_km
from geo.geojson import parse_area, to_geojson
from geo.places import uk_towns


def nearest_place(lon: float, lat: float) -> str:
    """The nearest town's name, which is how volunteers recognise where an incident is."""
    town = min(uk_towns(), key=lambda t: haversine_km(lon, lat, t.lon, t.lat))
    return town.name


def declare_incident(session: Session, *, data: IncidentCreate, actor: str, settings: Settings) -> Incident:
    """Create an incident with its needs and call the first wave at once."""
    check_skill_codes(session, [n.skill for n in data.needs])
    area = parse_area(data.area, max_area_km2=MAX_AREA_KM2)
    centre = area.representative_point() if area.geom_type != "Point" else area
    max_radius = data.max_radius_km or settings.max_radius_km
    if data.radius_km > max_radius:
        raise InvalidInput(f"radius_km {data.radius_km} is beyond max_radius_km {max_radius}")
    incident = Incident(
        title=data.title.strip(),
        kind=data.kind,
        area=from_shape(area, srid=4326),
        radius_km=data.radius_km,
        place=(data.place or nearest_place(centre.x, centre.y)).strip(),
        exercise=data.exercise,
        rendezvous_point=point_element(data.rendezvous.point) if data.rendezvous else None,
        rendezvous_text=data.rendezvous.text if data.rendezvous else None,
        starts_at=data.starts_at or datetime.now(UTC),
        notes=data.notes,
        status=IncidentStatus.open,
        overask=data.overask or settings.default_overask,
        wave_timeout_s=data.wave_timeout_s or settings.default_wave_timeout_s,
        # The deployment's maximum also bounds what a coordinator asks for (the search never went further).
        max_radius_km=min(max_radius, settings.max_radius_km),
        radius_step_km=data.radius_step_km or settings.radius_step_km,
        created_by=actor,
        needs=[
            Need(skill_code=n.skill, count=n.count, search_radius_km=data.radius_km, waves=0)
            for n in data.needs
        ],
    )
    session.add(incident)
    session.flush()
    record(
        session,
        actor=actor,
        action="incident.declared",
        entity_type="incident",
        entity_id=incident.id,
        detail={"needs": [n.model_dump() for n in data.needs], "exercise": data.exercise},
    )
    callouts.run_wave(session, incident_id=incident.id, force=True)
    return incident


def get_incident(session: Session, *, incident_id: int) -> Incident:
    """One incident, or NotFound."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def update_incident(session: Session, *, incident_id: int, data: IncidentUpdate, actor: str) -> Incident:
    """Change need counts (calling more or standing down the surplus) and notes."""
    incident = callouts.lock_incident(session, incident_id)
    if incident.status is IncidentStatus.closed:
        raise InvalidInput(f"incident {incident_id} is closed")
    needs = {n.skill_code: n for n in callouts.needs_of(session, incident_id)}
    unknown = sorted({u.skill for u in data.needs} - set(needs))
    if unknown:
        raise InvalidInput(f"incident {incident_id} has no need for: {', '.join(unknown)}")
    for change in data.needs:
        need = needs[change.skill]
        before = need.count
        callouts.change_count(session, incident=incident, need=need, count=change.count)
        record(
            session,
            actor=actor,
            action="need.count_changed",
            entity_type="incident",
            entity_id=incident_id,
            detail={"skill": change.skill, "from": before, "to": change.count},
        )
    if data.notes is not None:
        incident.notes = data.notes
    session.flush()
    return incident


def need_read(session: Session, need: Need) -> NeedRead:
    """A need with its call-up counts."""
    counts = callouts.status_counts(session, need.id)
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
    )


def to_read(session: Session, incident: Incident) -> IncidentRead:
    """The API shape of an incident with progress per need."""
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
        needs=[need_read(session, n) for n in callouts.needs_of(session, incident.id)],
    )


def list_incidents(
    session: Session, *, status: IncidentStatus | None, limit: int, offset: int
) -> tuple[list[Incident], int]:
    """Incidents, newest first."""
    where = [Incident.status == status] if status else []
    total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    items = session.scalars(
        select(Incident).where(*where).order_by(Incident.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(items), total


def list_callouts(session: Session, *, incident_id: int) -> list[CalloutRead]:
    """Everyone called for an incident, with what happened to their call-up."""
    get_incident(session, incident_id=incident_id)
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
        .where(Callout.incident_id == incident_id)
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
        )
        for c, name, phone, skill, status in rows
    ]
