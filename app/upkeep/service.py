"""Keeping the reserve alive, one reconciler pass at a time.

Credentials about to expire are reminded 60, 30 and 7 days before, each threshold once (the credential
remembers the nearest one reminded), in one SMS listing every skill due, at most once a week a person.
Once a year each active volunteer is asked whether they can still be called; YES (or any YES to a
call-up, a PAUSE or BACK) confirms; silence for 14 days makes them inactive (kept, not deleted, released
from any call-up) and they are told to text BACK to return. Only people who can be reached and called
are texted: active, with a number that has not failed for good. A failed number is not texted at all
(nothing more can reach it): administrators see it (`nvr volunteers failing`).

Each pass is one query on a partial index holding only the rows it may concern, and does at most
`limit` people, so a backlog (the first run on an old reserve) drains over several passes instead of
filling the send queue that stand-downs share.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, literal_column, or_, select, update
from sqlalchemy.orm import Session

from alerts import text
from app.audit.service import record
from app.callout import service as callouts
from app.message.models import MessageKind
from app.message.service import outbound, queue_all, respond
from app.skill.models import Skill
from app.volunteer.models import Credential, Volunteer, VolunteerStatus
from app.volunteer.service import UK, confirm_available, today_uk

REMINDER_DAYS = (60, 30, 7)  # days before expiry, furthest first
REMIND_EVERY = timedelta(days=7)  # at most one expiry reminder a week per person
CONFIRM_EVERY = timedelta(days=365)
ANSWER_WITHIN = timedelta(days=14)
BATCH = 50  # people per pass and kind
UPKEEP_HOURS = (9, 20)  # UK clock: nobody is woken by a reminder

# Literals, not bound parameters, so the planner matches the partial indexes' predicates however a
# prepared statement is planned (a generic plan cannot prove `status = $1` implies `status = 'active'`).
_ACTIVE = Volunteer.status == literal_column("'active'")


def in_upkeep_hours(moment: datetime) -> bool:
    """Whether reminders and checks may be sent now: daytime on the UK clock."""
    start, end = UPKEEP_HOURS
    return start <= moment.astimezone(UK).hour < end


def _reachable() -> ColumnElement[bool]:
    """Active, with a number that has not failed for good: the people an upkeep text may go to."""
    return and_(_ACTIVE, Volunteer.phone.is_not(None), Volunteer.phone_failed_at.is_(None))


def _reminder_due(today: date) -> ColumnElement[bool]:
    """A credential whose next threshold has come: not reminded yet and within 60 days, reminded at 60
    and within 30, or reminded at 30 and within 7 (each a range of ix_credentials_reminder_due)."""
    previous: tuple[int | None, ...] = (None, *REMINDER_DAYS[:-1])
    branches = []
    for before, days in zip(previous, REMINDER_DAYS, strict=True):
        reminded = Credential.expiry_reminded_days
        last = reminded.is_(None) if before is None else reminded == literal_column(str(before))
        branches.append(and_(last, Credential.expires_on.between(today, today + timedelta(days=days))))
    return or_(*branches)


def nearest_threshold(expires_on: date, today: date) -> int:
    """The nearest reminder threshold reached: 20 days before expiry is the 30-day one."""
    left = (expires_on - today).days
    return min(days for days in REMINDER_DAYS if left <= days)


def send_expiry_reminders(session: Session, *, limit: int = BATCH) -> int:
    """One SMS to each reachable volunteer with credentials at a new threshold and no reminder this
    week, listing those skills; returns how many people were reminded."""
    today, now = today_uk(), datetime.now(UTC)
    due = _reminder_due(today)
    people = (
        select(Volunteer.id)
        .join(Credential, Credential.volunteer_id == Volunteer.id)
        .where(
            due,
            _reachable(),
            or_(Volunteer.reminded_at.is_(None), Volunteer.reminded_at < now - REMIND_EVERY),
        )
        .group_by(Volunteer.id)
        .order_by(Volunteer.id)
        .limit(limit)
    )
    rows = session.execute(
        select(Volunteer.id, Volunteer.phone, Credential.id, Credential.expires_on, Skill.name)
        .join(Credential, Credential.volunteer_id == Volunteer.id)
        .join(Skill, Skill.code == Credential.skill_code)
        .where(Volunteer.id.in_(people), due)
        .order_by(Volunteer.id, Credential.expires_on, Skill.name)
    ).all()
    skills: dict[int, list[str]] = defaultdict(list)
    phones: dict[int, str] = {}
    reminded = []
    for volunteer_id, phone, credential_id, expires_on, name in rows:
        if phone is None or expires_on is None:  # the query leaves none such: for the type checker
            continue
        phones[volunteer_id] = phone
        skills[volunteer_id].append(f"{name} on {expires_on.day} {expires_on:%b %Y}")
        reminded.append({"id": credential_id, "expiry_reminded_days": nearest_threshold(expires_on, today)})
    if not reminded:
        return 0
    session.execute(update(Credential), reminded)
    session.execute(update(Volunteer).where(Volunteer.id.in_(list(phones))).values(reminded_at=now))
    messages = [
        outbound(
            volunteer_id=volunteer_id,
            to=phones[volunteer_id],
            kind=MessageKind.expiry_reminder,
            body=text.expiry_reminder_text(skills=held),
        )
        for volunteer_id, held in skills.items()
    ]
    queue_all(session, messages)
    return len(phones)


def ask_availability(session: Session, *, limit: int = BATCH) -> int:
    """Ask reachable volunteers who last confirmed (or joined) over a year ago whether they can still
    be called; returns how many were asked."""
    now = datetime.now(UTC)
    cutoff = now - CONFIRM_EVERY
    due = (
        select(Volunteer.id)
        .where(
            _reachable(),
            Volunteer.available_asked_at.is_(None),
            or_(
                Volunteer.available_confirmed_at < cutoff,
                and_(Volunteer.available_confirmed_at.is_(None), Volunteer.created_at < cutoff),
            ),
        )
        .order_by(Volunteer.id)
        .limit(limit)
    )
    asked = session.execute(
        update(Volunteer)
        .where(Volunteer.id.in_(due))
        .values(available_asked_at=now)
        .returning(Volunteer.id, Volunteer.phone)
    ).all()
    body = text.availability_check_text(answer_within_days=ANSWER_WITHIN.days)
    messages = [
        outbound(volunteer_id=i, to=phone, kind=MessageKind.availability_check, body=body)
        for i, phone in asked
        if phone is not None  # the query leaves none without: for the type checker
    ]
    if messages:
        queue_all(session, messages)
    return len(asked)


def mark_unanswered_inactive(session: Session, *, limit: int = BATCH) -> int:
    """Active volunteers asked over 14 days ago who never answered become inactive (released from any
    call-up, kept, not deleted) and are told how to come back; returns how many."""
    silent = session.scalars(
        select(Volunteer)
        .where(
            _ACTIVE,
            Volunteer.available_asked_at.is_not(None),
            Volunteer.available_asked_at < datetime.now(UTC) - ANSWER_WITHIN,
        )
        .order_by(Volunteer.available_asked_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # an answer being acted on right now wins
    ).all()
    for volunteer in silent:
        callouts.release_volunteer(
            session,
            volunteer_id=volunteer.id,
            reason="did not answer the yearly availability check",
            status=VolunteerStatus.inactive,
        )
        record(
            session,
            actor=callouts.SYSTEM,
            action="volunteer.marked_inactive",
            entity_type="volunteer",
            entity_id=volunteer.id,
            detail={"asked_at": str(volunteer.available_asked_at)},
        )
        if volunteer.phone_failed_at is None:
            respond(session, volunteer, MessageKind.marked_inactive, text.marked_inactive_text())
    return len(silent)


def answer_availability(session: Session, *, volunteer: Volunteer) -> None:
    """YES to the yearly check (no call-up to answer): confirmed, and thanked; an inactive volunteer
    who answers late is active again, as with BACK (not one whose number failed for good)."""
    confirm_available(volunteer)
    if volunteer.status is VolunteerStatus.inactive and volunteer.phone_failed_at is None:
        volunteer.status = VolunteerStatus.active
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="volunteer.available_confirmed",
        entity_type="volunteer",
        entity_id=volunteer.id,
        detail={"status": volunteer.status.value},
    )
    respond(session, volunteer, MessageKind.self_service, text.available_confirmed_text())
