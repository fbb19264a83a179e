"""What declaring an incident would find: eligible people per need, by the real selection; nothing written."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.callout.schemas import IncidentPreview, NeedPreview
from app.callout.selection import count_eligible
from app.check.models import CheckNeed
from app.incident.schemas import IncidentCreate, NeedCreate
from app.incident.service import check_declarable
from app.settings import Settings
from geo.geojson import to_ewkt
from geo.sql import geog_from_ewkt


def preview_incident(
    session: Session, *, data: IncidentCreate, settings: Settings, emergency: bool = True
) -> IncidentPreview:
    """Count eligible volunteers per need within the radius and the maximum radius, and those left out
    only because their credential awaits verification or only for want of the need's check; writes
    nothing. An ask's (not `emergency`) leaves out those who asked for emergencies only, as its waves
    will.

    The same checks as declaring (app/incident/service.py `check_declarable`), so a preview that answers
    is a declaration that would be accepted.
    """
    declared = check_declarable(session, data, settings=settings, now=datetime.now(UTC))
    max_radius = declared.max_radius_km
    area = geog_from_ewkt(to_ewkt(declared.area))
    starts_at = data.starts_at or datetime.now(UTC)

    def count(
        need: NeedCreate, radius_km: float, *, unverified: bool = False, unchecked: bool = False
    ) -> int:
        check = None if need.check_level is None else CheckNeed(need.check_level, need.check_workforce)
        if unchecked and check is None:
            return 0  # nobody is left out for want of a check no one asked for
        return count_eligible(
            session,
            area=area,
            skill=need.skill,
            radius_km=radius_km,
            starts_at=starts_at,
            unverified=unverified,
            check=check,
            unchecked=unchecked,
            emergency=emergency,
        )

    needs = [
        NeedPreview(
            skill=need.skill,
            count=need.count,
            eligible_within_radius=count(need, data.radius_km),
            eligible_within_max_radius=count(need, max_radius),
            unverified_within_radius=count(need, data.radius_km, unverified=True),
            unverified_within_max_radius=count(need, max_radius, unverified=True),
            unchecked_within_radius=count(need, data.radius_km, unchecked=True),
            unchecked_within_max_radius=count(need, max_radius, unchecked=True),
        )
        for need in data.needs
    ]
    return IncidentPreview(needs=needs, radius_km=data.radius_km, max_radius_km=max_radius)
