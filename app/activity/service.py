"""Hours on the Volunteer Passport: deployments and non-emergency activities, their milestones and totals.

A deployment is not a row of its own but a query over `callouts` (`deployments`): a confirmed call-up
with both an arrived and a done time, its hours done - arrived. The volunteer's ARRIVED and DONE replies
(app/webhook) and a coordinator's entries and corrections (the attendance route) already write those
two times; a copy written when DONE arrives or the incident closes would have to be rewritten on every
correction and could disagree with the incident's own report, which reads the same columns. One
source of truth: what the incident's record says is what the passport says.

Activities are rows (`Activity`), each with the same hours for everyone who came. Milestones
(`MILESTONES` hours) are rows too, written once each with INSERT .. ON CONFLICT DO NOTHING, so the
thank-you SMS goes once even when two changes race; a later correction that takes the hours back under
a milestone does not take it off the passport (the thank-you was sent).
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from geoalchemy2 import Geometry
from geoalchemy2.shape import to_shape
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    String,
    Subquery,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from alerts import text
from app.activity.models import Activity, Milestone, activity_volunteers
from app.activity.schemas import (
    ActivityCreate,
    ActivityRead,
    DeploymentRead,
    Grouping,
    HoursRead,
    MilestoneRead,
    PassportActivity,
    PassportRead,
    TotalRow,
)
from app.area.models import Area
from app.audit.service import record
from app.callout.models import Callout, CalloutStatus
from app.errors import Forbidden, InvalidInput
from app.incident.models import Incident, Need
from app.message.models import MessageKind
from app.message.service import outbound, queue_all
from app.organisation.models import Organisation
from app.skill.models import Skill
from app.volunteer import service as volunteers
from app.volunteer.models import Volunteer, VolunteerStatus, volunteer_organisations
from app.volunteer.schemas import GeoPoint
from geo.geojson import to_geojson
from geo.places import describe_location, find_settlement, outside_uk

MILESTONES = (10, 25, 50, 100, 200, 500)
ACTIVITIES_KEY = "activities"  # the skill group of activities, which have no skill


def deployment_hours() -> ColumnElement[float]:
    """A call-up's hours on the ground: the figure a coordinator entered, else done - arrived."""
    clocked = cast(func.extract("epoch", Callout.done_at - Callout.arrived_at) / 3600.0, Float)
    return func.coalesce(cast(Callout.entered_hours, Float), clocked)


def _is_deployment() -> list[ColumnElement[bool]]:
    """A confirmed call-up with hours: both times, or an entered figure."""
    timed = and_(Callout.arrived_at.is_not(None), Callout.done_at.is_not(None))
    return [Callout.status == CalloutStatus.accepted, or_(Callout.entered_hours.is_not(None), timed)]


def hours_of(session: Session, *, volunteer_ids: Sequence[int]) -> dict[int, HoursRead]:
    """Each volunteer's hours from deployments and from activities (none: zero)."""
    ids = sorted(set(volunteer_ids))
    deployed = dict(
        session.execute(
            select(Callout.volunteer_id, func.sum(deployment_hours()))
            .where(Callout.volunteer_id.in_(ids), *_is_deployment())
            .group_by(Callout.volunteer_id)
        ).all()
    )
    active = dict(
        session.execute(
            select(activity_volunteers.c.volunteer_id, func.sum(cast(Activity.hours, Float)))
            .join(Activity, Activity.id == activity_volunteers.c.activity_id)
            .where(activity_volunteers.c.volunteer_id.in_(ids))
            .group_by(activity_volunteers.c.volunteer_id)
        ).all()
    )
    result = {}
    for vid in ids:
        d, a = round(float(deployed.get(vid) or 0), 2), round(float(active.get(vid) or 0), 2)
        result[vid] = HoursRead(deployments=d, activities=a, total=round(d + a, 2))
    return result


def award_milestones(session: Session, *, volunteer_ids: Sequence[int]) -> int:
    """Record every milestone these volunteers' hours have newly reached and thank each of them once,
    in one SMS naming the highest (crossing 10 and 25 at once is one text about 25, both recorded);
    returns how many were texted. Call it after any change that adds hours."""
    totals = hours_of(session, volunteer_ids=volunteer_ids)
    reached = [
        {"volunteer_id": vid, "hours": m} for vid, h in totals.items() for m in MILESTONES if h.total >= m
    ]
    if not reached:
        return 0
    new = session.execute(
        insert(Milestone)
        .values(reached)
        .on_conflict_do_nothing()
        .returning(Milestone.volunteer_id, Milestone.hours)
    ).all()
    highest: dict[int, int] = {}
    for vid, hours in new:
        highest[vid] = max(hours, highest.get(vid, 0))
    if not highest:
        return 0
    # Anyone we still hold a working number for, except those who said STOP.
    phones = dict(
        session.execute(
            select(Volunteer.id, Volunteer.phone).where(
                Volunteer.id.in_(list(highest)),
                Volunteer.phone.is_not(None),
                Volunteer.phone_failed_at.is_(None),
                Volunteer.status.not_in([VolunteerStatus.opted_out, VolunteerStatus.erased]),
            )
        ).all()
    )
    messages = [
        outbound(
            volunteer_id=vid,
            to=phone,
            kind=MessageKind.milestone,
            body=text.milestone_text(hours=highest[vid]),
        )
        for vid, phone in sorted(phones.items())
        if phone is not None
    ]
    if messages:
        queue_all(session, messages)
    for message in messages:
        if message.volunteer_id is None:  # pragma: no cover - every thank-you has its volunteer
            continue
        vid = message.volunteer_id
        session.execute(
            update(Milestone)
            .where(Milestone.volunteer_id == vid, Milestone.hours.in_([h for v, h in new if v == vid]))
            .values(message_id=message.id)
        )
    for vid in highest:
        record(
            session,
            actor="system",
            action="volunteer.milestone",
            entity_type="volunteer",
            entity_id=vid,
            detail={"hours": sorted(h for v, h in new if v == vid), "texted": vid in phones},
        )
    return len(messages)


def resolve_volunteers(
    session: Session, *, refs: Sequence[int | str], members_of: Organisation | None = None
) -> tuple[dict[int | str, int], list[str]]:
    """Volunteer ids for ids and E.164 mobiles, and a message for each that is no (living) volunteer.

    With `members_of` (an organisation's own token), only its members are found: anyone else gets the
    same "no volunteer" message, so an organisation cannot learn who else is on the reserve.
    """
    ids = {r for r in refs if isinstance(r, int)}
    phones = {r for r in refs if isinstance(r, str)}
    live: ColumnElement[bool] = Volunteer.status != VolunteerStatus.erased
    if members_of is not None:
        member = volunteer_organisations.c
        live = and_(
            live,
            select(member.volunteer_id)
            .where(member.volunteer_id == Volunteer.id, member.organisation_id == members_of.id)
            .exists(),
        )
    found: dict[int | str, int] = {}
    if ids:
        found.update(
            (vid, vid) for vid in session.scalars(select(Volunteer.id).where(Volunteer.id.in_(ids), live))
        )
    if phones:
        found.update(
            (str(phone), vid)
            for vid, phone in session.execute(
                select(Volunteer.id, Volunteer.phone).where(Volunteer.phone.in_(phones), live)
            )
        )
    missing = [
        f"no volunteer {r}" if isinstance(r, int) else f"no volunteer has the phone {r}"
        for r in dict.fromkeys(refs)
        if r not in found
    ]
    return found, missing


def check_activity(data: ActivityCreate) -> tuple[float, float, str]:
    """Where the activity was, as (lon, lat, place), and that it is not in the future; InvalidInput if not."""
    if data.held_on > volunteers.today_uk():
        raise InvalidInput(
            f"held_on {data.held_on} is in the future: record an activity once it has happened"
        )
    if data.location is not None:
        lon, lat = data.location.lon, data.location.lat
        problem = outside_uk(lon, lat)
        if problem is not None:
            raise InvalidInput(f"location: {problem}")
        return lon, lat, data.place or describe_location(lon, lat)
    try:
        settlement = find_settlement(data.place or "")
    except KeyError as exc:
        raise InvalidInput(f"place: {exc.args[0]}") from exc
    return settlement.lon, settlement.lat, data.place or settlement.name


def recorder_problem(data: ActivityCreate, recorder: Organisation | None) -> str | None:
    """Why an organisation's own token may not record this activity (it names another organisation),
    or None; a token that acts for the whole reserve (`recorder` None) records any organisation's."""
    if recorder is not None and data.organisation.strip() != recorder.name:
        return f"this token records the activities of {recorder.name} only, not {data.organisation.strip()}"
    return None


def create_activity(
    session: Session, *, data: ActivityCreate, actor: str, recorder: Organisation | None = None
) -> Activity:
    """Record an activity and who came, then thank anyone whose hours reached a milestone. An
    organisation's own token (`recorder`) records only its activities, with only its members."""
    problem = recorder_problem(data, recorder)
    if problem is not None:
        raise Forbidden(problem)
    where = check_activity(data)
    found, missing = resolve_volunteers(session, refs=data.volunteers, members_of=recorder)
    if missing:
        raise InvalidInput("volunteers: " + "; ".join(missing))
    activity = write_activity(
        session, data=data, where=where, volunteer_ids=[found[r] for r in data.volunteers], actor=actor
    )
    award_milestones(session, volunteer_ids=activity_volunteer_ids(session, activity_id=activity.id))
    return activity


def write_activity(
    session: Session,
    *,
    data: ActivityCreate,
    where: tuple[float, float, str],
    volunteer_ids: Sequence[int],
    actor: str,
) -> Activity:
    """Insert a checked activity and its attendance (a person named twice is counted once)."""
    lon, lat, place = where
    organisation = volunteers.organisations_named(session, names=[data.organisation])[0]
    activity = Activity(
        organisation_id=organisation.id,
        title=data.title,
        held_on=data.held_on,
        place=place[:120],
        location=volunteers.point_element(GeoPoint(type="Point", coordinates=[lon, lat])),
        hours=round(data.hours, 2),
        created_by=actor,
    )
    session.add(activity)
    session.flush()
    people = sorted(set(volunteer_ids))
    session.execute(
        insert(activity_volunteers), [{"activity_id": activity.id, "volunteer_id": v} for v in people]
    )
    record(
        session,
        actor=actor,
        action="activity.recorded",
        entity_type="activity",
        entity_id=activity.id,
        detail={"organisation": organisation.name, "hours": activity.hours, "people": len(people)},
    )
    return activity


def activity_volunteer_ids(session: Session, *, activity_id: int) -> list[int]:
    """The volunteers who came to an activity."""
    c = activity_volunteers.c
    return list(
        session.scalars(select(c.volunteer_id).where(c.activity_id == activity_id).order_by(c.volunteer_id))
    )


def list_activities(
    session: Session,
    *,
    organisation: str | None = None,
    recorder: Organisation | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ActivityRead], int]:
    """A page of activities, newest first, optionally of one organisation; an organisation's own token
    (`recorder`) sees only its own."""
    query = select(Activity, Organisation.name).join(
        Organisation, Organisation.id == Activity.organisation_id
    )
    if organisation is not None:
        query = query.where(Organisation.name == organisation)
    if recorder is not None:
        query = query.where(Organisation.id == recorder.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Activity.held_on.desc(), Activity.id.desc()).limit(limit).offset(offset)
    ).all()
    c = activity_volunteers.c
    people: dict[int, list[int]] = defaultdict(list)
    for aid, vid in session.execute(
        select(c.activity_id, c.volunteer_id)
        .where(c.activity_id.in_([a.id for a, _ in rows]))
        .order_by(c.volunteer_id)
    ):
        people[aid].append(vid)
    return [to_read(a, organisation=name, volunteer_ids=people[a.id]) for a, name in rows], total


def to_read(activity: Activity, *, organisation: str, volunteer_ids: list[int]) -> ActivityRead:
    """The API shape of an activity."""
    return ActivityRead(
        id=activity.id,
        title=activity.title,
        organisation=organisation,
        held_on=activity.held_on,
        place=activity.place,
        location=to_geojson(to_shape(activity.location)),
        hours=float(activity.hours),
        volunteer_ids=volunteer_ids,
        created_by=activity.created_by,
        created_at=activity.created_at,
    )


def deployments(session: Session, *, volunteer_id: int) -> list[DeploymentRead]:
    """A volunteer's deployments, newest first: confirmed call-ups with arrived and done times or hours
    entered as a figure."""
    rows = session.execute(
        select(Callout, Incident.title, Incident.exercise, Need.skill_code, deployment_hours())
        .join(Incident, Incident.id == Callout.incident_id)
        .join(Need, Need.id == Callout.need_id)
        .where(Callout.volunteer_id == volunteer_id, *_is_deployment())
        .order_by(func.coalesce(Callout.arrived_at, Callout.called_at).desc(), Callout.id.desc())
    ).all()
    return [
        DeploymentRead(
            callout_id=c.id,
            incident_id=c.incident_id,
            incident_title=title,
            role=skill,
            exercise=exercise,
            arrived_at=c.arrived_at,
            done_at=c.done_at,
            hours=round(float(hours), 2),
        )
        for c, title, exercise, skill, hours in rows
    ]


def milestones_of(session: Session, *, volunteer_id: int) -> list[MilestoneRead]:
    """The milestones a volunteer has reached, smallest first (kept once reached, whatever later
    corrections do to the hours)."""
    rows = session.scalars(
        select(Milestone).where(Milestone.volunteer_id == volunteer_id).order_by(Milestone.hours)
    )
    return [MilestoneRead(hours=m.hours, reached_at=m.reached_at) for m in rows]


def passport(session: Session, *, volunteer_id: int) -> PassportRead:
    """A volunteer's passport: credentials as the volunteer record shows them, hours and milestones."""
    volunteer = volunteers.get_volunteer(session, volunteer_id=volunteer_id)
    activities = session.execute(
        select(Activity, Organisation.name)
        .join(activity_volunteers, activity_volunteers.c.activity_id == Activity.id)
        .join(Organisation, Organisation.id == Activity.organisation_id)
        .where(activity_volunteers.c.volunteer_id == volunteer_id)
        .order_by(Activity.held_on.desc(), Activity.id.desc())
    ).all()
    return PassportRead(
        volunteer_id=volunteer.id,
        credentials=volunteers.to_read(volunteer).skills,
        hours=hours_of(session, volunteer_ids=[volunteer_id])[volunteer_id],
        milestones=milestones_of(session, volunteer_id=volunteer_id),
        deployments=deployments(session, volunteer_id=volunteer_id),
        activities=[
            PassportActivity(
                id=a.id,
                title=a.title,
                organisation=name,
                held_on=a.held_on,
                place=a.place,
                hours=float(a.hours),
            )
            for a, name in activities
        ],
    )


def _records(*, by_organisation: bool) -> Subquery:
    """Every hour given, as (volunteer, hours, skill, organisation, place) rows: deployments at their
    incident's area with the need's skill, activities at their place under their organisation. With
    `by_organisation` a deployment counts once for each organisation its volunteer belongs to (the
    call-up is the reserve's, not an organisation's)."""
    deployed = (
        select(
            Callout.volunteer_id.label("volunteer_id"),
            deployment_hours().label("hours"),
            Need.skill_code.label("skill_code"),
            (volunteer_organisations.c.organisation_id if by_organisation else literal(None, Integer)).label(
                "organisation_id"
            ),
            cast(Incident.area, Geometry).label("place"),
        )
        .join(Need, Need.id == Callout.need_id)
        .join(Incident, Incident.id == Callout.incident_id)
        .where(*_is_deployment())
    )
    if by_organisation:
        deployed = deployed.outerjoin(
            volunteer_organisations, volunteer_organisations.c.volunteer_id == Callout.volunteer_id
        )
    done = select(
        activity_volunteers.c.volunteer_id,
        cast(Activity.hours, Float),
        literal(None, String),
        Activity.organisation_id,
        cast(Activity.location, Geometry),
    ).join(Activity, Activity.id == activity_volunteers.c.activity_id)
    return deployed.union_all(done).subquery("records")


def totals(
    session: Session, *, by: Grouping, area_id: int | None = None, min_people: int = 1
) -> list[TotalRow]:
    """Hours and different people by organisation, resilience area or skill, biggest first.

    `area_id` keeps only what happened in that area (a deployment by its incident's area, an activity by
    its place); groups of fewer than `min_people` are left out. The edge passes the maps' own rule for
    forum viewers (their area's scope, `MIN_CELL_COUNT`): a published figure is always about five or
    more people. Groups overlap (a person is in several organisations, deployed for several skills),
    so hiding a small group cannot be undone by subtracting the others' counts from a total.
    """
    r = _records(by_organisation=by is Grouping.organisation)
    people = func.count(r.c.volunteer_id.distinct())
    hours = func.round(cast(func.sum(r.c.hours), Numeric), 2)
    key: Any
    name: Any
    if by is Grouping.area:
        key, name = Area.code, Area.name
        query = (
            select(key, name, people, hours)
            .select_from(r)
            .join(Area, func.ST_Intersects(r.c.place, Area.geom))
        )
    elif by is Grouping.organisation:
        key, name = Organisation.id, Organisation.name
        query = (
            select(key, name, people, hours)
            .select_from(r)
            .outerjoin(Organisation, Organisation.id == r.c.organisation_id)
        )
    else:
        key, name = r.c.skill_code, Skill.name
        query = select(key, name, people, hours).select_from(r).outerjoin(Skill, Skill.code == r.c.skill_code)
    if area_id is not None:
        inside = select(Area.geom).where(Area.id == area_id).scalar_subquery()
        query = query.where(func.ST_Intersects(r.c.place, inside))
        if by is Grouping.area:
            query = query.where(Area.id == area_id)
    query = query.group_by(key, name).having(people >= min_people).order_by(hours.desc(), key)
    rows = []
    for k, n, count, total in session.execute(query):
        if by is Grouping.skill and k is None:
            k, n = ACTIVITIES_KEY, "Non-emergency activities"
        elif by is Grouping.organisation and k is None:
            k, n = "none", "No organisation"
        rows.append(TotalRow(key=str(k), name=n, people=count, hours=float(total)))
    return rows
