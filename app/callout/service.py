"""The mobilisation engine: waves that fill each need, answers, stand-downs and closing.

Every function that changes an incident's call-ups first locks the incident row, so waves, answers and
timers for one incident never interleave (no double-calling, no over-filling). Services flush; the
request or job that called them commits, and queued SMS are enqueued after that commit.
"""

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from alerts import text
from alerts.segments import count_segments
from alerts.text import StandDownReason
from app.audit.service import record
from app.callout.models import Callout, CalloutStatus
from app.callout.selection import find_candidates
from app.callout.welfare import ask_welfare
from app.errors import Conflict, InvalidInput, NotFound
from app.incident.models import Incident, IncidentStatus, Need
from app.incident.service import lock_incident, needs_of
from app.jobs import RUN_WAVE
from app.message.models import Message, MessageKind, MessageStatus
from app.message.service import cancel_unsent, outbound, queue_all
from app.metrics import TIME_TO_FILL, seconds_between
from app.queue import DEFAULT, PendingJob, enqueue_after_commit
from app.skill.models import Skill
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import set_status

UK = ZoneInfo("Europe/London")
SYSTEM = "system"
# Call-ups still holding a volunteer: asked and not answered, or accepted, while the incident is open.
# A closed incident's accepted call-ups stay accepted (the record of who came) but hold nobody.
ENGAGED = (CalloutStatus.called, CalloutStatus.accepted)


def status_counts(session: Session, need_id: int) -> dict[CalloutStatus, int]:
    """How many call-ups of a need are in each status."""
    rows = session.execute(
        select(Callout.status, func.count()).where(Callout.need_id == need_id).group_by(Callout.status)
    ).all()
    counts = dict.fromkeys(CalloutStatus, 0)
    counts.update({status: n for status, n in rows})
    return counts


def _when(incident: Incident) -> str | None:
    """The start time for messages, when it is not right now."""
    if incident.starts_at <= datetime.now(UTC) + timedelta(minutes=5):
        return None
    return text.local_time_text(incident.starts_at, UK)


def _skill_name(session: Session, code: str) -> str:
    skill = session.get(Skill, code)
    return skill.name.lower() if skill else code.replace("_", " ")


def _wanted(session: Session, *, incident: Incident, need: Need, now: datetime) -> int:
    """How many more to ask so that answers still awaited cover the gap times the over-ask factor."""
    gap = need.count - status_counts(session, need.id)[CalloutStatus.accepted]
    if gap <= 0 or incident.status is not IncidentStatus.open:
        return 0
    fresh_since = now - timedelta(seconds=incident.wave_timeout_s)
    awaited = session.scalar(
        select(func.count()).where(
            Callout.need_id == need.id,
            Callout.status == CalloutStatus.called,
            Callout.called_at > fresh_since,
        )
    )
    return math.ceil(gap * incident.overask) - (awaited or 0)


def top_up(session: Session, *, incident: Incident, need: Need, now: datetime) -> int:
    """Call enough new people that answers still awaited cover the gap times the over-ask factor.

    Call-ups older than the wave timeout no longer count as awaited, so each timer wave calls more.
    When the pool within the search radius runs dry the radius widens step by step up to the maximum;
    past that the need is marked exhausted and the coordinator sees it.
    """
    want = _wanted(session, incident=incident, need=need, now=now)
    if want <= 0:
        return 0
    while True:
        found = find_candidates(
            session,
            incident_id=incident.id,
            skill=need.skill_code,
            radius_km=need.search_radius_km,
            starts_at=incident.starts_at,
            limit=want,
            check=need.check,
        )
        if len(found) >= want or need.search_radius_km >= incident.max_radius_km:
            break
        widened = min(incident.max_radius_km, need.search_radius_km + incident.radius_step_km)
        record(
            session,
            actor=SYSTEM,
            action="need.radius_widened",
            entity_type="incident",
            entity_id=incident.id,
            detail={"skill": need.skill_code, "from_km": need.search_radius_km, "to_km": widened},
        )
        need.search_radius_km = widened
    if len(found) < want and need.exhausted_at is None:
        need.exhausted_at = now
        record(
            session,
            actor=SYSTEM,
            action="need.pool_exhausted",
            entity_type="incident",
            entity_id=incident.id,
            detail={
                "skill": need.skill_code,
                "radius_km": need.search_radius_km,
                "short_by": want - len(found),
            },
        )
    if not found:
        return 0
    need.waves += 1
    _call(session, incident=incident, need=need, candidates=found, now=now)
    return len(found)


def reask(session: Session, *, incident: Incident, need: Need, now: datetime) -> int:
    """Ask again, before anyone new, the people this need stood down because it was full or fewer were
    needed (they were ready to go); they must still be eligible. Returns how many were asked."""
    want = _wanted(session, incident=incident, need=need, now=now)
    if want <= 0:
        return 0
    found = find_candidates(
        session,
        incident_id=incident.id,
        skill=need.skill_code,
        radius_km=need.search_radius_km,
        starts_at=incident.starts_at,
        limit=want,
        reask_need_id=need.id,
        check=need.check,
    )
    if not found:
        return 0
    need.waves += 1
    _call(session, incident=incident, need=need, candidates=found, now=now, again=True)
    return len(found)


def _call(
    session: Session,
    *,
    incident: Incident,
    need: Need,
    candidates: Sequence,
    now: datetime,
    again: bool = False,
) -> None:
    """Text a call-up to each candidate: new call-ups, or (`again`) their stood-down ones reopened."""
    ids = [c.volunteer_id for c in candidates]
    distances = {c.volunteer_id: round(c.distance_km, 3) for c in candidates}
    phones = {
        vid: phone
        for vid, phone in session.execute(select(Volunteer.id, Volunteer.phone).where(Volunteer.id.in_(ids)))
        if phone is not None
    }
    session.execute(update(Volunteer).where(Volunteer.id.in_(ids)).values(last_called_at=now))
    body = text.callup_text(
        kind=incident.kind.value,
        place=incident.place,
        skill=_skill_name(session, need.skill_code),
        ref=incident.id,
        rendezvous=incident.rendezvous_text,
        when=_when(incident),
        exercise=incident.exercise,
        emergency=incident.emergency,
    )
    if again:
        callouts_ = list(
            session.scalars(select(Callout).where(Callout.need_id == need.id, Callout.volunteer_id.in_(ids)))
        )
        for callout in callouts_:
            callout.status = CalloutStatus.called
            callout.wave = need.waves
            callout.distance_km = distances[callout.volunteer_id]
            callout.called_at = now
            callout.answered_at = None
            callout.reason = None
    else:
        callouts_ = [
            Callout(
                incident_id=incident.id,
                need_id=need.id,
                volunteer_id=vid,
                wave=need.waves,
                distance_km=distances[vid],
                status=CalloutStatus.called,
                called_at=now,
            )
            for vid in ids
        ]
        session.add_all(callouts_)
    session.flush()
    queue_all(
        session,
        [
            outbound(
                volunteer_id=c.volunteer_id,
                to=phones[c.volunteer_id],
                kind=MessageKind.callup,
                body=body,
                callout_id=c.id,
                incident_id=incident.id,
            )
            for c in callouts_
        ],
    )
    record(
        session,
        actor=SYSTEM,
        action="wave.reasked" if again else "wave.called",
        entity_type="incident",
        entity_id=incident.id,
        detail={"skill": need.skill_code, "wave": need.waves, "volunteers": ids},
    )


def schedule_wave(session: Session, *, incident: Incident, now: datetime) -> None:
    """Set the next wave time in the database and ask the RQ scheduler to run it then."""
    due = now + timedelta(seconds=incident.wave_timeout_s)
    incident.next_wave_at = due
    job_id = f"wave-{incident.id}-{int(due.timestamp() * 1000)}"
    enqueue_after_commit(
        session, PendingJob(RUN_WAVE, (incident.id,), DEFAULT, job_id, incident.wave_timeout_s)
    )


def run_wave(session: Session, *, incident_id: int, force: bool = False) -> int:
    """Top up every unfilled need of an open incident and schedule the next wave; returns people called.

    Timer jobs may fire twice or late: without `force`, a wave only runs once its time has come.
    """
    incident = lock_incident(session, incident_id)
    now = datetime.now(UTC)
    if incident.status is not IncidentStatus.open:
        return 0
    if not force and incident.next_wave_at is not None and incident.next_wave_at > now:
        return 0
    called = sum(
        top_up(session, incident=incident, need=need, now=now) for need in needs_of(session, incident_id)
    )
    unfilled = [n for n in needs_of(session, incident_id) if n.filled_at is None]
    if unfilled:
        schedule_wave(session, incident=incident, now=now)
    else:
        incident.next_wave_at = None
    return called


def _reply(
    session: Session, volunteer: Volunteer, kind: MessageKind, body: str, callout: Callout | None
) -> None:
    if volunteer.phone is None:
        return
    message = outbound(
        volunteer_id=volunteer.id,
        to=volunteer.phone,
        kind=kind,
        body=body,
        callout_id=callout.id if callout else None,
        incident_id=callout.incident_id if callout else None,
    )
    queue_all(session, [message])


def _callups_sent(session: Session, callout_ids: list[int]) -> set[int]:
    """The call-ups the volunteer may have seen (so a stand-down must be texted), in one query."""
    unsent = (MessageStatus.pending, MessageStatus.cancelled, MessageStatus.failed)
    return set(
        session.scalars(
            select(Message.callout_id).where(
                Message.callout_id.in_(callout_ids),
                Message.kind == MessageKind.callup,
                Message.status.not_in(unsent),
            )
        )
    )


def stand_down(
    session: Session,
    *,
    incident: Incident,
    callouts: Sequence[Callout],
    reason: StandDownReason,
    detail: str | None = None,
) -> int:
    """Release call-ups: cancel unsent call-up texts, and text everyone who got one why they stand down
    (`detail`: the coordinator's reason for closing)."""
    if not callouts:
        return 0
    now = datetime.now(UTC)
    cancel_unsent(session, callout_ids=[c.id for c in callouts])
    volunteers = {
        v.id: v
        for v in session.scalars(
            select(Volunteer).where(Volunteer.id.in_([c.volunteer_id for c in callouts]))
        )
    }
    # One query and one insert for the whole stand-down, however many call-ups (it runs under the lock).
    sent = _callups_sent(session, [c.id for c in callouts])
    body = text.standdown_text(
        ref=incident.id,
        reason=reason,
        exercise=incident.exercise,
        emergency=incident.emergency,
        detail=detail,
    )
    texts = []
    for callout in callouts:
        was_sent = callout.id in sent
        callout.status = CalloutStatus.stood_down if was_sent else CalloutStatus.cancelled
        callout.reason = reason
        callout.answered_at = callout.answered_at or now
        phone = volunteers[callout.volunteer_id].phone
        if was_sent and phone is not None:
            texts.append(
                outbound(
                    volunteer_id=callout.volunteer_id,
                    to=phone,
                    kind=MessageKind.standdown,
                    body=body,
                    callout_id=callout.id,
                    incident_id=callout.incident_id,
                )
            )
    texted = len(texts)
    if texts:
        queue_all(session, texts)
    session.flush()
    record(
        session,
        actor=SYSTEM,
        action="callouts.stood_down",
        entity_type="incident",
        entity_id=incident.id,
        detail={"reason": reason, "callouts": [c.id for c in callouts], "texted": texted},
    )
    return texted


def settle_need(session: Session, *, incident: Incident, need: Need) -> None:
    """After any change: stand down the surplus of a filled need, or call more for an unfilled one."""
    now = datetime.now(UTC)
    accepted = status_counts(session, need.id)[CalloutStatus.accepted]
    if accepted >= need.count:
        if need.filled_at is None:
            need.filled_at = now
            fill = seconds_between(incident.starts_at, now)
            if fill is not None:
                TIME_TO_FILL.observe(fill)
            record(
                session,
                actor=SYSTEM,
                action="need.filled",
                entity_type="incident",
                entity_id=incident.id,
                detail={"skill": need.skill_code, "count": need.count},
            )
        waiting = list(
            session.scalars(
                select(Callout).where(Callout.need_id == need.id, Callout.status == CalloutStatus.called)
            )
        )
        stand_down(session, incident=incident, callouts=waiting, reason=StandDownReason.need_filled)
    else:
        need.filled_at = None
        top_up(session, incident=incident, need=need, now=now)


def accept(session: Session, *, callout: Callout, volunteer: Volunteer) -> bool:
    """A YES: confirmed while the need is open, thanked and not counted once it is filled."""
    incident = lock_incident(session, callout.incident_id)
    session.refresh(callout)
    need = session.get_one(Need, callout.need_id)
    now = datetime.now(UTC)
    accepted = status_counts(session, need.id)[CalloutStatus.accepted]
    if callout.status is CalloutStatus.accepted and incident.status is IncidentStatus.open:
        body = text.confirmation_text(
            ref=incident.id,
            rendezvous=incident.rendezvous_text,
            when=_when(incident),
            exercise=incident.exercise,
            emergency=incident.emergency,
        )
        _reply(session, volunteer, MessageKind.confirmation, body, callout)
        return True
    open_need = incident.status is IncidentStatus.open and accepted < need.count
    if not open_need or callout.status not in (CalloutStatus.called, CalloutStatus.declined):
        callout.answered_at = callout.answered_at or now
        record(
            session,
            actor=f"volunteer:{volunteer.id}",
            action="callout.late_yes",
            entity_type="callout",
            entity_id=callout.id,
        )
        _reply(
            session,
            volunteer,
            MessageKind.not_needed,
            text.not_needed_text(ref=incident.id, exercise=incident.exercise, emergency=incident.emergency),
            callout,
        )
        return False
    callout.status = CalloutStatus.accepted
    callout.answered_at = now
    session.flush()
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="callout.accepted",
        entity_type="callout",
        entity_id=callout.id,
    )
    body = text.confirmation_text(
        ref=incident.id,
        rendezvous=incident.rendezvous_text,
        when=_when(incident),
        exercise=incident.exercise,
        emergency=incident.emergency,
    )
    _reply(session, volunteer, MessageKind.confirmation, body, callout)
    settle_need(session, incident=incident, need=need)
    return True


def decline(session: Session, *, callout: Callout, volunteer: Volunteer) -> None:
    """A NO: noted, acknowledged, and the next candidate is called at once rather than at the next wave."""
    incident = lock_incident(session, callout.incident_id)
    session.refresh(callout)
    need = session.get_one(Need, callout.need_id)
    was_accepted = callout.status is CalloutStatus.accepted
    # A closed incident's record stays as it was: a NO after the end changes nothing.
    if incident.status is IncidentStatus.open and callout.status in ENGAGED:
        callout.status = CalloutStatus.declined
        callout.answered_at = datetime.now(UTC)
        session.flush()
        record(
            session,
            actor=f"volunteer:{volunteer.id}",
            action="callout.withdrawn" if was_accepted else "callout.declined",
            entity_type="callout",
            entity_id=callout.id,
        )
    _reply(
        session,
        volunteer,
        MessageKind.declined_ack,
        text.declined_text(ref=incident.id, exercise=incident.exercise, emergency=incident.emergency),
        callout,
    )
    if incident.status is IncidentStatus.open:
        settle_need(session, incident=incident, need=need)


def replace_failed(session: Session, *, callout_id: int, reason: str) -> None:
    """A call-up that could not be delivered counts as failed, and someone else is called instead."""
    callout = session.get(Callout, callout_id)
    if callout is None:
        return
    incident = lock_incident(session, callout.incident_id)
    session.refresh(callout)
    if callout.status is not CalloutStatus.called:
        return
    callout.status = CalloutStatus.failed
    callout.reason = reason[:200]
    session.flush()
    record(
        session,
        actor=SYSTEM,
        action="callout.failed",
        entity_type="callout",
        entity_id=callout.id,
        detail={"reason": reason},
    )
    if incident.status is IncidentStatus.open:
        need = session.get_one(Need, callout.need_id)
        settle_need(session, incident=incident, need=need)


def open_callouts(
    session: Session, volunteer_id: int, statuses: tuple[CalloutStatus, ...] = ENGAGED
) -> list[Callout]:
    """A volunteer's call-ups in these states in incidents still open, the newest call first."""
    return list(session.scalars(_engaged(volunteer_id, statuses).order_by(Callout.called_at.desc())))


def _engaged(volunteer_id: int, statuses: tuple[CalloutStatus, ...] = ENGAGED) -> Select[Callout]:
    """A volunteer's call-ups in these states (by default those that hold them: called or accepted), in
    incidents still open."""
    return (
        select(Callout)
        .join(Incident, Incident.id == Callout.incident_id)
        .where(
            Callout.volunteer_id == volunteer_id,
            Callout.status.in_(statuses),
            Incident.status == IncidentStatus.open,
        )
    )


def lock_engagements(session: Session, *, volunteer_id: int) -> dict[int, Incident]:
    """Lock, in id order, the incidents where this volunteer is called or accepted.

    Taken before the volunteer's own row, as waves take them (incident, then the people they call).
    """
    engaged = _engaged(volunteer_id).with_only_columns(Callout.incident_id)
    return {i: lock_incident(session, i) for i in sorted(set(session.scalars(engaged)))}


def release_volunteer(
    session: Session,
    *,
    volunteer_id: int,
    reason: str,
    status: VolunteerStatus | None = None,
    notify: bool = False,
) -> int:
    """The one way out for a volunteer who can no longer be called (STOP, a permanent delivery error,
    paused or opted out by a coordinator, erasure); returns how many call-ups ended.

    Their incidents are locked first (in id order, so two releases cannot deadlock), then the status is
    set, so no refill picks them again; unsent texts are cancelled; their open and accepted call-ups end;
    each need they leave is settled again, which calls the next candidate. With `notify` (a coordinator
    paused someone who can still read SMS) those who got a call-up are told why they stand down.
    """
    incidents = lock_engagements(session, volunteer_id=volunteer_id)
    if status is not None:
        set_status(session.get_one(Volunteer, volunteer_id), status)
    cancel_unsent(session, volunteer_id=volunteer_id)
    # Read again under the locks, overwriting any copy this session loaded before them.
    current = _engaged(volunteer_id).order_by(Callout.incident_id, Callout.id)
    ended = list(session.scalars(current.execution_options(populate_existing=True)))
    now = datetime.now(UTC)
    for incident_id, group in groupby(ended, key=lambda c: c.incident_id):
        incident = incidents.get(incident_id) or lock_incident(session, incident_id)
        released = list(group)
        if notify:
            stand_down(session, incident=incident, callouts=released, reason=StandDownReason.paused)
        for callout in released:
            if callout.status in ENGAGED:
                callout.status = CalloutStatus.cancelled
            callout.reason = reason[:200]
            callout.answered_at = callout.answered_at or now
        session.flush()
        record(
            session,
            actor=SYSTEM,
            action="callouts.released",
            entity_type="incident",
            entity_id=incident_id,
            detail={"reason": reason, "callouts": [c.id for c in released]},
        )
        if incident.status is IncidentStatus.open:
            for need_id in sorted({c.need_id for c in released}):
                settle_need(session, incident=incident, need=session.get_one(Need, need_id))
    return len(ended)


def change_count(session: Session, *, incident: Incident, need: Need, count: int) -> None:
    """Raising a count asks again those stood down when the need was full, then calls new people;
    lowering it stands down the surplus (newest acceptances first)."""
    raised = count > need.count
    need.count = count
    accepted = list(
        session.scalars(
            select(Callout)
            .where(Callout.need_id == need.id, Callout.status == CalloutStatus.accepted)
            .order_by(Callout.answered_at.desc(), Callout.id.desc())
        )
    )
    surplus = accepted[: max(0, len(accepted) - count)]
    stand_down(session, incident=incident, callouts=surplus, reason=StandDownReason.fewer_needed)
    if raised:
        reask(session, incident=incident, need=need, now=datetime.now(UTC))
    settle_need(session, incident=incident, need=need)


def _tell_confirmed(session: Session, *, incident: Incident, body: str, kind: MessageKind) -> int:
    """Text one body to everyone confirmed for an incident; returns how many were texted."""
    rows = session.execute(
        select(Callout.id, Volunteer.id, Volunteer.phone)
        .join(Volunteer, Volunteer.id == Callout.volunteer_id)
        .where(Callout.incident_id == incident.id, Callout.status == CalloutStatus.accepted)
        .order_by(Callout.id)
    ).all()
    texts = [
        outbound(
            volunteer_id=volunteer_id,
            to=phone,
            kind=kind,
            body=body,
            callout_id=callout_id,
            incident_id=incident.id,
        )
        for callout_id, volunteer_id, phone in rows
        if phone is not None
    ]
    if texts:
        queue_all(session, texts)
    return len(texts)


def lock_open_incident(session: Session, incident_id: int) -> Incident:
    """The incident locked, refused (InvalidInput) once closed: a coordinator's action needs it open."""
    incident = lock_incident(session, incident_id)
    if incident.status is IncidentStatus.closed:
        raise InvalidInput(f"incident {incident_id} is closed")
    return incident


def send_update(session: Session, *, incident_id: int, body: str, actor: str) -> int:
    """Text a coordinator's update to everyone confirmed ("go to X instead"); returns how many."""
    incident = lock_open_incident(session, incident_id)
    try:
        message = text.update_text(
            ref=incident.id, body=body, exercise=incident.exercise, emergency=incident.emergency
        )
    except ValueError as exc:
        marks = (text.EXERCISE_PREFIX if incident.exercise else "") + (
            "" if incident.emergency else text.ASK_PREFIX
        )
        segments = count_segments(f"{marks}NVR {incident.id} update: {body}").segments
        raise InvalidInput(
            f"the update would be {segments} SMS segments; at most {text.MAX_SEGMENTS}: shorten it"
        ) from exc
    sent = _tell_confirmed(session, incident=incident, body=message, kind=MessageKind.update)
    record(
        session,
        actor=actor,
        action="incident.update_sent",
        entity_type="incident",
        entity_id=incident_id,
        detail={"text": body, "sent": sent},
    )
    return sent


def tell_rendezvous_moved(session: Session, *, incident: Incident) -> int:
    """Text everyone confirmed where the rendezvous is now (the incident is locked and updated)."""
    if not incident.rendezvous_text:
        return 0
    body = text.rendezvous_moved_text(
        ref=incident.id,
        rendezvous=incident.rendezvous_text,
        when=_when(incident),
        exercise=incident.exercise,
        emergency=incident.emergency,
    )
    return _tell_confirmed(session, incident=incident, body=body, kind=MessageKind.update)


def _callout_of(session: Session, *, incident_id: int, callout_id: int) -> Callout:
    """One call-up of this incident, read again under the incident's lock."""
    callout = session.get(Callout, callout_id, populate_existing=True)
    if callout is None or callout.incident_id != incident_id:
        raise NotFound(f"incident {incident_id} has no call-up {callout_id}")
    return callout


def release_callout(
    session: Session, *, incident_id: int, callout_id: int, reason: str, actor: str
) -> Callout:
    """A coordinator releases one person: they are told, and the need calls the next candidate."""
    incident = lock_open_incident(session, incident_id)
    callout = _callout_of(session, incident_id=incident_id, callout_id=callout_id)
    if callout.status not in ENGAGED:
        raise Conflict(
            f"call-up {callout_id} is {callout.status.value.replace('_', ' ')}: nothing to release"
        )
    was = callout.status
    stand_down(session, incident=incident, callouts=[callout], reason=StandDownReason.released)
    callout.reason = f"released: {reason}"[:200]
    session.flush()
    record(
        session,
        actor=actor,
        action="callout.released",
        entity_type="callout",
        entity_id=callout.id,
        detail={"incident_id": incident_id, "reason": reason, "was": was.value},
    )
    settle_need(session, incident=incident, need=session.get_one(Need, callout.need_id))
    return callout


def record_attendance(
    session: Session,
    *,
    incident_id: int,
    callout_id: int,
    arrived_at: datetime | None,
    done_at: datetime | None,
    fields: set[str],
    actor: str,
    hours: float | None = None,
) -> Callout:
    """A coordinator enters when a confirmed person arrived and finished (also after the close), or
    their hours as a figure, which then stands for done - arrived.

    Only the `fields` given change; a time or the figure given as null clears it.
    """
    lock_incident(session, incident_id)
    callout = _callout_of(session, incident_id=incident_id, callout_id=callout_id)
    if callout.status is not CalloutStatus.accepted:
        raise Conflict(f"call-up {callout_id} is {callout.status.value.replace('_', ' ')}, not confirmed")
    arrived = arrived_at if "arrived_at" in fields else callout.arrived_at
    done = done_at if "done_at" in fields else callout.done_at
    if arrived is not None and done is not None and done < arrived:
        raise InvalidInput("done_at is before arrived_at")
    if done is not None and arrived is None:
        raise InvalidInput("done_at needs arrived_at: enter when they arrived first")
    callout.arrived_at, callout.done_at = arrived, done
    if "hours" in fields:
        callout.entered_hours = round(hours, 2) if hours is not None else None
    session.flush()
    record(
        session,
        actor=actor,
        action="callout.attendance",
        entity_type="callout",
        entity_id=callout.id,
        detail={
            "incident_id": incident_id,
            "arrived_at": arrived.isoformat() if arrived else None,
            "done_at": done.isoformat() if done else None,
            "hours": callout.entered_hours,
        },
    )
    return callout


def close_incident(session: Session, *, incident_id: int, actor: str, reason: str | None = None) -> int:
    """Close an incident: stand down everyone still asked, and tell everyone confirmed it is over.

    Confirmed call-ups stay accepted: the record keeps who was confirmed (and who arrived, for how long).
    The coordinator's reason is kept and is in every text. Returns how many were texted.
    """
    incident = lock_incident(session, incident_id)
    if incident.status is IncidentStatus.closed:
        return 0
    incident.status = IncidentStatus.closed
    incident.closed_at = datetime.now(UTC)
    incident.close_reason = reason
    incident.next_wave_at = None
    waiting = list(
        session.scalars(
            select(Callout).where(Callout.incident_id == incident_id, Callout.status == CalloutStatus.called)
        )
    )
    texted = stand_down(
        session,
        incident=incident,
        callouts=waiting,
        reason=StandDownReason.incident_closed,
        detail=reason,
    )
    body = text.standdown_text(
        ref=incident.id,
        reason=StandDownReason.incident_closed,
        exercise=incident.exercise,
        emergency=incident.emergency,
        detail=reason,
    )
    told = _tell_confirmed(session, incident=incident, body=body, kind=MessageKind.standdown)
    confirmed = session.scalars(
        select(Callout.id).where(Callout.incident_id == incident_id, Callout.status == CalloutStatus.accepted)
    )
    ask_welfare(session, callout_ids=list(confirmed))
    record(
        session,
        actor=actor,
        action="incident.closed",
        entity_type="incident",
        entity_id=incident_id,
        detail={"reason": reason, "confirmed_told": told, "stood_down_texted": texted},
    )
    return texted + told
