"""What declaring an incident would find: eligible people per need, by the real selection; nothing written."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.callout.schemas import IncidentPreview, NeedPreview
from app.callout.selection import count_eligible
from app.errors import InvalidInput
from app.incident.schemas import MAX_AREA_KM2, IncidentCreate
from app.settings import Settings
from app.volunteer.service import check_skill_codes
from geo.geojson import parse_area, to_ewkt
from geo.sql import geog_from_ewkt


def preview_incident(session: Session, *, data: IncidentCreate, settings: Settings) -> IncidentPreview:
    """Count eligible volunteers per need within the radius and the maximum radius; writes nothing.

    The same rules as declaring (skills in the catalogue, the radius within the maximum, the maximum
    within the deployment's) so a preview that answers is a declaration that would be accepted.
    """
    check_skill_codes(session, [n.skill for n in data.needs])
    max_radius = data.max_radius_km or settings.max_radius_km
    if data.radius_km > max_radius:
        raise InvalidInput(f"radius_km {data.radius_km} is beyond max_radius_km {max_radius}")
    max_radius = min(max_radius, settings.max_radius_km)
    area = geog_from_ewkt(to_ewkt(parse_area(data.area, max_area_km2=MAX_AREA_KM2)))
    starts_at = data.starts_at or datetime.now(UTC)
    needs = [
        NeedPreview(
            skill=need.skill,
            count=need.count,
            eligible_within_radius=count_eligible(
                session, area=area, skill=need.skill, radius_km=data.radius_km, starts_at=starts_at
            ),
            eligible_within_max_radius=count_eligible(
                session, area=area, skill=need.skill, radius_km=max_radius, starts_at=starts_at
            ),
        )
        for need in data.needs
    ]
    return IncidentPreview(needs=needs, radius_km=data.radius_km, max_radius_km=max_radius)
