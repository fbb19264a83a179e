"""Who to call: the one query that picks nearby, qualified, available volunteers, nearest first.

All the eligibility rules live here so the whole query can be read and EXPLAINed in one place.
The inner query walks the GIST index on (skill, home) nearest first (KNN `<->`), filtered by
ST_DWithin and the eligibility rules, and stops after a pool a few times larger than asked for; so a
dense city or a common skill costs no more than a village. The outer query ranks that pool by 1 km
distance band and, within a band, least recently called first (fairness: the nearest people are not
called every time). A passport holds one entry per skill, so nobody appears twice.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from alerts.text import REASKABLE
from app.callout.models import Callout, CalloutStatus
from app.check.models import CheckNeed
from app.check.service import meets_need
from app.incident.models import Incident, IncidentStatus
from app.skill.models import Skill
from app.volunteer.models import (
    AvailabilityWindow,
    Credential,
    CredentialStatus,
    UnavailablePeriod,
    Volunteer,
    VolunteerStatus,
)
from geo.sql import GeogExpr, distance_km, knn, within_km

UK = ZoneInfo("Europe/London")
BAND_KM = 1.0
# The ranked pool: enough beyond `limit` that a 1 km band is rarely cut off before fairness applies.
POOL_FACTOR = 4
POOL_EXTRA = 100


@dataclass(frozen=True)
class Candidate:
    """An eligible volunteer and how far they are from the incident area."""

    volunteer_id: int
    distance_km: float


def _eligible(
    *,
    area: GeogExpr,
    incident_id: int | None,
    skill: str,
    radius_km: float,
    starts_at: datetime,
    reask_need_id: int | None = None,
    unverified: bool = False,
    check: CheckNeed | None = None,
    unchecked: bool = False,
    emergency: ColumnElement[bool] = true(),
) -> list[ColumnElement[bool]]:
    """Who may be called for one need (see the module docstring): the selection's WHERE clause.

    A credential counts unless an organisation rejected it, and for a skill that needs verification
    only once one verified it; with `unverified`, instead, only those left out for that alone (a
    pending credential for such a skill). With `check`, only people holding that disclosure check,
    current on the day; with `unchecked`, instead, only those left out for want of it. `incident_id`
    is None for an incident not declared yet (a preview): nobody has been called for it.
    With `reask_need_id`, only people that need stood down (or whose call-up it cancelled unsent)
    because it was full or fewer were needed, and who are still eligible, instead of people not yet
    called. For an organisation's ask (`emergency` false) nobody who texted EMERGENCIES ONLY.
    """
    local = starts_at.astimezone(UK)
    # Driven from the credentials of the skill, whose copy of the holder's home shares a GIST index
    # with the skill code: only people holding the skill are ever visited.
    home = Credential.location
    other = aliased(Incident)
    busy_elsewhere = (
        select(Callout.id)
        .join(other, other.id == Callout.incident_id)
        .where(
            Callout.volunteer_id == Volunteer.id,
            Callout.status == CalloutStatus.accepted,
            other.status == IncidentStatus.open,
            *([other.id != incident_id] if incident_id is not None else []),
        )
    )
    away = select(UnavailablePeriod.id).where(
        UnavailablePeriod.volunteer_id == Volunteer.id,
        UnavailablePeriod.starts_at <= starts_at,
        UnavailablePeriod.ends_at > starts_at,
    )
    has_windows = select(AvailabilityWindow.id).where(AvailabilityWindow.volunteer_id == Volunteer.id)
    in_window = select(AvailabilityWindow.id).where(
        AvailabilityWindow.volunteer_id == Volunteer.id,
        AvailabilityWindow.weekday == local.weekday(),
        AvailabilityWindow.starts <= local.time(),
        AvailabilityWindow.ends > local.time(),
    )
    # One value per query (an InitPlan), so the GIST walk is unchanged and only its rows are filtered.
    needs_verification = select(Skill.needs_verification).where(Skill.code == skill).scalar_subquery()
    if unverified:
        verification = and_(Credential.status == CredentialStatus.pending, needs_verification)
    else:
        verification = or_(
            Credential.status == CredentialStatus.verified,
            and_(Credential.status == CredentialStatus.pending, ~needs_verification),
        )
    rules = [
        Credential.skill_code == skill,
        verification,
        or_(Credential.expires_on.is_(None), Credential.expires_on >= local.date()),
        within_km(home, area, radius_km),
        Volunteer.status == VolunteerStatus.active,
        Volunteer.phone.is_not(None),
        or_(~Volunteer.emergencies_only, emergency),
        or_(Volunteer.max_travel_km.is_(None), within_km(home, area, Volunteer.max_travel_km)),
        ~busy_elsewhere.exists(),
        ~away.exists(),
        or_(~has_windows.exists(), and_(in_window.exists())),
    ]
    if check is not None:
        held = meets_need(Volunteer.id, check, on=local.date())
        rules.append(~held if unchecked else held)
    if reask_need_id is not None:
        stood_down = select(Callout.id).where(
            Callout.need_id == reask_need_id,
            Callout.volunteer_id == Volunteer.id,
            # Stood down, or cancelled before their call-up was even sent.
            Callout.status.in_((CalloutStatus.stood_down, CalloutStatus.cancelled)),
            Callout.reason.in_([r.value for r in REASKABLE]),
        )
        rules.append(stood_down.exists())
    elif incident_id is not None:
        already_called = select(Callout.id).where(
            Callout.incident_id == incident_id, Callout.volunteer_id == Volunteer.id
        )
        rules.append(~already_called.exists())
    return rules


def candidates_query(
    *,
    incident_id: int,
    skill: str,
    radius_km: float,
    starts_at: datetime,
    limit: int,
    reask_need_id: int | None = None,
    check: CheckNeed | None = None,
) -> Select[int, float]:
    """The selection query for one need of one incident (see the module docstring for the rules;
    `reask_need_id` and `check` as in `_eligible`)."""
    area = select(Incident.area).where(Incident.id == incident_id).scalar_subquery()
    home = Credential.location
    eligible = _eligible(
        area=area,
        incident_id=incident_id,
        skill=skill,
        radius_km=radius_km,
        starts_at=starts_at,
        reask_need_id=reask_need_id,
        check=check,
        emergency=select(Incident.emergency).where(Incident.id == incident_id).scalar_subquery(),
    )
    pool = (
        select(
            Volunteer.id.label("volunteer_id"),
            Volunteer.last_called_at.label("last_called_at"),
            distance_km(home, area).label("distance_km"),
        )
        .join(Volunteer, Volunteer.id == Credential.volunteer_id)
        .where(*eligible)
        .order_by(knn(home, area))
        .limit(limit * POOL_FACTOR + POOL_EXTRA)
        .subquery("nearest")
    )
    return (
        select(pool.c.volunteer_id, pool.c.distance_km)
        .order_by(
            func.floor(pool.c.distance_km / BAND_KM),
            pool.c.last_called_at.asc().nulls_first(),
            pool.c.distance_km,
            pool.c.volunteer_id,
        )
        .limit(limit)
    )


def count_eligible(
    session: Session,
    *,
    area: GeogExpr,
    skill: str,
    radius_km: float,
    starts_at: datetime,
    unverified: bool = False,
    check: CheckNeed | None = None,
    unchecked: bool = False,
    emergency: bool = True,
) -> int:
    """How many people the selection could call for a need of an incident not declared yet (an ask's
    when not `emergency`); with `unverified`, how many more it could if their pending credentials were
    verified; with `unchecked`, how many more if they held the need's `check`."""
    eligible = _eligible(
        area=area,
        incident_id=None,
        skill=skill,
        radius_km=radius_km,
        starts_at=starts_at,
        unverified=unverified,
        check=check,
        unchecked=unchecked,
        emergency=true() if emergency else false(),
    )
    query = (
        select(func.count())
        .select_from(Credential)
        .join(Volunteer, Volunteer.id == Credential.volunteer_id)
        .where(*eligible)
    )
    return session.scalar(query) or 0


def find_candidates(
    session: Session,
    *,
    incident_id: int,
    skill: str,
    radius_km: float,
    starts_at: datetime,
    limit: int,
    reask_need_id: int | None = None,
    check: CheckNeed | None = None,
) -> list[Candidate]:
    """Up to `limit` eligible volunteers for one need, best first (see `candidates_query`)."""
    query = candidates_query(
        incident_id=incident_id,
        skill=skill,
        radius_km=radius_km,
        starts_at=starts_at,
        limit=limit,
        reask_need_id=reask_need_id,
        check=check,
    )
    return [Candidate(vid, float(km)) for vid, km in session.execute(query)]


def explain(
    session: Session, *, incident_id: int, skill: str, radius_km: float, starts_at: datetime, limit: int
) -> str:
    """PostgreSQL's plan for the selection query, for tests and operators."""
    query = candidates_query(
        incident_id=incident_id, skill=skill, radius_km=radius_km, starts_at=starts_at, limit=limit
    )
    compiled = query.compile(session.get_bind())
    sql = f"EXPLAIN {compiled}"
    rows = session.connection().exec_driver_sql(sql, compiled.params).scalars().all()
    return "\n".join(rows)
