"""What declaring an incident would find: eligible people per need, by the real selection; nothing written."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.callout.schemas import IncidentPreview, NeedPreview
from app.callout.selection import count_eligible
from app.incident.schemas import IncidentCreate
from app.incident.service import check_declarable
from app.settings import Settings
from geo.geojson import to_ewkt
from geo.sql import geog_from_ewkt


def preview_incident(
    session: Session, *, data: IncidentCreate, settings: Settings, emergency: bool = True
) -> IncidentPreview:
    """Count eligible volunteers per need within the radius and the maximum radius, and those left out
    only because their credential awaits verification; writes nothing. An ask's (not `emergency`) leaves
    out those who asked for emergencies only, as its waves will.

    The same checks as declaring (app/incident/service.py `check_declarable`), so a preview that answers
    is a declaration that would be accepted.
    """
    declared = check_declarable(session, data, settings=settings, now=datetime.now(UTC))
    max_radius = declared.max_radius_km
    area = geog_from_ewkt(to_ewkt(declared.area))
    starts_at = data.starts_at or datetime.now(UTC)

    def count(skill: str, radius_km: float, *, unverified: bool = False) -> int:
        return count_eligible(
            session,
            area=area,
            skill=skill,
            radius_km=radius_km,
            starts_at=starts_at,
            unverified=unverified,
            emergency=emergency,
        )

    needs = [
        NeedPreview(
            skill=need.skill,
            count=need.count,
            eligible_within_radius=count(need.skill, data.radius_km),
            eligible_within_max_radius=count(need.skill, max_radius),
            unverified_within_radius=count(need.skill, data.radius_km, unverified=True),
            unverified_within_max_radius=count(need.skill, max_radius, unverified=True),
        )
        for need in data.needs
    ]
    return IncidentPreview(needs=needs, radius_km=data.radius_km, max_radius_km=max_radius)
