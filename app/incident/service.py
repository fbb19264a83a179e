"""Incidents themselves: declaring one with its needs, finding, locking and listing them; an
organisation's ask for help that is not an emergency is an incident too (`emergency` false), with the
organisation that asked.

What an incident's call-ups do (waves, answers, counts changed, closing) is the engine's, one layer
up in app/callout, which uses this module; this one knows nothing of call-ups.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from geoalchemy2.shape import from_shape
from shapely import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.service import record
from app.errors import Forbidden, InvalidInput, NotFound
from app.incident.models import Incident, IncidentStatus, Need
from app.incident.schemas import MAX_AREA_KM2, IncidentCreate
from app.organisation.models import Organisation
from app.settings import Settings
from app.volunteer.service import check_skill_codes, point_element
from geo.geojson import Area, parse_area
from geo.places import UK_BBOX, describe_location, outside_uk

# A start a little in the past is a form filled in slowly; an hour ago is a mistake (or 2020's date).
PAST_START_TOLERANCE = timedelta(minutes=15)


@dataclass(frozen=True)
class Declarable:
    """What checking a declaration found: its area, and the maximum radius its search may reach."""

    area: Area
    max_radius_km: float


def check_declarable(
    session: Session, data: IncidentCreate, *, settings: Settings, now: datetime
) -> Declarable:
    """Check a declaration as declaring does, writing nothing (the console's preview checks the same).

    Its skills are in the catalogue; its area and rendezvous are in the UK (geo.places.outside_uk judges
    the area's centre by the settlements around it, and every corner must lie within the UK's bounding
    box); it starts now or later; its radius is within its maximum, and the maximum within the
    deployment's. Anything else is InvalidInput (a 422).
    """
    check_skill_codes(session, [n.skill for n in data.needs])
    area = parse_area(data.area, max_area_km2=MAX_AREA_KM2)
    centre = _centre(area)
    reason = outside_uk(centre.x, centre.y)
    min_lon, min_lat, max_lon, max_lat = UK_BBOX
    lon0, lat0, lon1, lat1 = area.bounds
    if reason is None and not (min_lon <= lon0 and lon1 <= max_lon and min_lat <= lat0 and lat1 <= max_lat):
        reason = "the area reaches outside the United Kingdom"
    if reason is not None:
        raise InvalidInput(f"area: {reason}; incidents are declared in the UK only")
    meeting = data.rendezvous.point if data.rendezvous else None
    if meeting is not None and (far := outside_uk(meeting.lon, meeting.lat)):
        raise InvalidInput(f"rendezvous: {far}; people are sent to places in the UK only")
    if data.starts_at is not None and data.starts_at < now - PAST_START_TOLERANCE:
        raise InvalidInput(
            f"starts_at {data.starts_at.isoformat()} is in the past; "
            f"give one from {(now - PAST_START_TOLERANCE).isoformat(timespec='minutes')} on, or none for now"
        )
    max_radius = data.max_radius_km or settings.max_radius_km
    if data.radius_km > max_radius:
        raise InvalidInput(f"radius_km {data.radius_km} is beyond max_radius_km {max_radius}")
    # The deployment's maximum also bounds what a coordinator asks for (the search never went further).
    return Declarable(area=area, max_radius_km=min(max_radius, settings.max_radius_km))


def _centre(area: BaseGeometry) -> Point:
    """A point inside the area that stands for it (its representative point; a point is itself)."""
    return area if isinstance(area, Point) else area.representative_point()


def create_incident(
    session: Session,
    *,
    data: IncidentCreate,
    actor: str,
    settings: Settings,
    emergency: bool = True,
    organisation_id: int | None = None,
) -> Incident:
    """Create an incident with its needs (the engine calls its first wave: app/callout/flows.py); an
    organisation's ask is one that is not an `emergency`, with the organisation that asked."""
    declared = check_declarable(session, data, settings=settings, now=datetime.now(UTC))
    area = declared.area
    centre = _centre(area)
    incident = Incident(
        title=data.title.strip(),
        kind=data.kind,
        area=from_shape(area, srid=4326),
        radius_km=data.radius_km,
        place=(data.place or describe_location(centre.x, centre.y)).strip(),
        exercise=data.exercise,
        emergency=emergency,
        organisation_id=organisation_id,
        rendezvous_point=point_element(data.rendezvous.point) if data.rendezvous else None,
        rendezvous_text=data.rendezvous.text if data.rendezvous else None,
        starts_at=data.starts_at or datetime.now(UTC),
        notes=data.notes,
        status=IncidentStatus.open,
        overask=data.overask or settings.default_overask,
        wave_timeout_s=data.wave_timeout_s or settings.default_wave_timeout_s,
        max_radius_km=declared.max_radius_km,
        radius_step_km=data.radius_step_km or settings.radius_step_km,
        created_by=actor,
        needs=[
            Need(
                skill_code=n.skill,
                count=n.count,
                search_radius_km=data.radius_km,
                waves=0,
                check_level=n.check_level,
                check_workforce=n.check_workforce,
            )
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
        detail={
            "needs": [n.model_dump(mode="json") for n in data.needs],
            "exercise": data.exercise,
            "emergency": emergency,
            "organisation_id": organisation_id,
        },
    )
    return incident


def asking_organisation(
    session: Session, *, named: str | None, recorder: Organisation | None
) -> Organisation:
    """Who asks for help: an organisation's own token (`recorder`) for itself only (Forbidden when it
    names another); an admin or coordinator must name an organisation that exists (InvalidInput)."""
    name = named.strip() if named is not None else None
    if recorder is not None:
        if name is not None and name != recorder.name:
            raise Forbidden(f"this token asks for help for {recorder.name} only, not {name}")
        return recorder
    if name is None:
        raise InvalidInput("organisation: name the organisation that asks for help")
    found = session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        raise InvalidInput(f"organisation: there is no organisation named {name!r}")
    return found


def get_ask(session: Session, *, ask_id: int, recorder: Organisation | None) -> Incident:
    """One organisation's ask; NotFound for an emergency, and for another organisation's ask when an
    organisation's own token (`recorder`) asks (it cannot learn of others' asks)."""
    incident = session.get(Incident, ask_id)
    if incident is None or incident.emergency:
        raise NotFound(f"ask {ask_id} does not exist")
    if recorder is not None and incident.organisation_id != recorder.id:
        raise NotFound(f"ask {ask_id} does not exist")
    return incident


def get_incident(session: Session, *, incident_id: int) -> Incident:
    """One incident, or NotFound."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def lock_incident(session: Session, incident_id: int) -> Incident:
    """The incident row, locked for the rest of the transaction."""
    incident = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def needs_of(session: Session, incident_id: int) -> list[Need]:
    """An incident's needs in a stable order."""
    return list(session.scalars(select(Need).where(Need.incident_id == incident_id).order_by(Need.id)))


def list_incidents(
    session: Session,
    *,
    status: IncidentStatus | None,
    limit: int,
    offset: int,
    emergency: bool | None = None,
    organisation_id: int | None = None,
) -> tuple[list[Incident], int]:
    """Incidents, newest first; only emergencies or only asks (`emergency`), only one organisation's."""
    where = [Incident.status == status] if status else []
    if emergency is not None:
        where.append(Incident.emergency.is_(emergency))
    if organisation_id is not None:
        where.append(Incident.organisation_id == organisation_id)
    total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    items = session.scalars(
        select(Incident).where(*where).order_by(Incident.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(items), total
