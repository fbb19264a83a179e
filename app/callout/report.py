"""An incident's report: the timeline, how fast it filled, what the messages cost, who came and for
how long. Read from the record (call-ups, messages), which closing keeps; nothing here writes.
"""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.callout.models import Callout, CalloutStatus
from app.callout.schemas import (
    AttendanceRow,
    DistanceBand,
    FillPoint,
    HoursReport,
    IncidentReport,
    MessageCount,
    MessagesReport,
    NeedReport,
    ReportIncident,
    TimelineEntry,
)
from app.incident.models import Incident, IncidentStatus, Need
from app.incident.schemas import hours_between
from app.incident.service import get_incident, needs_of
from app.message.models import Direction, Message, MessageKind, MessageStatus
from app.volunteer.models import Volunteer

# Acceptance by distance: (label, from km inclusive, to km exclusive).
BANDS: tuple[tuple[str, float, float], ...] = (
    ("0-5", 0.0, 5.0),
    ("5-10", 5.0, 10.0),
    ("10-25", 10.0, 25.0),
    ("25+", 25.0, float("inf")),
)
# Call-ups that never reached anyone (unsent, undeliverable) say nothing about acceptance.
NOT_REACHED = (CalloutStatus.cancelled, CalloutStatus.failed)


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 1)


def _fill_over_time(declared: datetime, answered: list[datetime]) -> list[FillPoint]:
    """Accepted count by minute since declaring: the start (0 at minute 0), then the count at the end of
    each minute it grew in."""
    start = FillPoint(minute=0, accepted=0)
    points: list[FillPoint] = []
    for n, at in enumerate(sorted(answered), start=1):
        minute = max(0, int((at - declared).total_seconds() // 60))
        if points and points[-1].minute == minute:
            points[-1] = FillPoint(minute=minute, accepted=n)
        else:
            points.append(FillPoint(minute=minute, accepted=n))
    return [start, *points]


def _band(km: float | None) -> str:
    if km is None:
        return "unknown"  # erased people keep no distance
    return next(label for label, low, high in BANDS if low <= km < high)


def _messages(session: Session, incident_id: int) -> MessagesReport:
    rows = session.execute(
        select(Message.direction, Message.kind, func.count(), func.coalesce(func.sum(Message.segments), 0))
        .where(Message.incident_id == incident_id, Message.status != MessageStatus.cancelled)
        .group_by(Message.direction, Message.kind)
        .order_by(Message.direction, Message.kind)
    ).all()
    by_kind = [
        MessageCount(direction=d.value, kind=k.value, count=n, segments=int(seg)) for d, k, n, seg in rows
    ]
    outbound = [m for m in by_kind if m.direction == Direction.outbound.value]
    return MessagesReport(
        by_kind=by_kind,
        outbound=sum(m.count for m in outbound),
        inbound=sum(m.count for m in by_kind if m.direction == Direction.inbound.value),
        outbound_segments=sum(m.segments for m in outbound),
    )


def _bands(callouts: list[tuple[Callout, str, str]]) -> list[DistanceBand]:
    reached = [c for c, _, _ in callouts if c.status not in NOT_REACHED]
    labels = [label for label, _, _ in BANDS]
    if any(c.distance_km is None for c in reached):
        labels.append("unknown")
    bands = []
    for label in labels:
        inside = [c for c in reached if _band(c.distance_km) == label]
        accepted = sum(1 for c in inside if c.status is CalloutStatus.accepted)
        rate = round(accepted / len(inside), 3) if inside else None
        bands.append(DistanceBand(band=label, called=len(inside), accepted=accepted, rate=rate))
    return bands


def incident_report(session: Session, *, incident_id: int) -> IncidentReport:
    """The whole report of one incident, open or closed."""
    incident: Incident = get_incident(session, incident_id=incident_id)
    declared = incident.created_at
    needs: list[Need] = needs_of(session, incident_id)
    skill_of = {n.id: n.skill_code for n in needs}
    callouts = [
        (c, name, skill_of[c.need_id])
        for c, name in session.execute(
            select(Callout, Volunteer.name)
            .join(Volunteer, Volunteer.id == Callout.volunteer_id)
            .where(Callout.incident_id == incident_id)
            .order_by(Callout.id)
        ).all()
    ]
    accepted = [(c, name, skill) for c, name, skill in callouts if c.status is CalloutStatus.accepted]
    first_sms = session.scalar(
        select(func.min(Message.sent_at)).where(
            Message.incident_id == incident_id,
            Message.direction == Direction.outbound,
            Message.kind == MessageKind.callup,
        )
    )
    need_reports = []
    for need in needs:
        answered = [c.answered_at for c, _, _ in accepted if c.need_id == need.id and c.answered_at]
        need_reports.append(
            NeedReport(
                skill=need.skill_code,
                count=need.count,
                accepted=sum(1 for c, _, _ in accepted if c.need_id == need.id),
                filled_at=need.filled_at,
                time_to_fill_s=_seconds(declared, need.filled_at),
                fill_over_time=_fill_over_time(declared, answered),
            )
        )
    timeline = [TimelineEntry(at=declared, event="declared", detail=incident.title)]
    if first_sms is not None:
        timeline.append(TimelineEntry(at=first_sms, event="first SMS sent", detail=None))
    for report in need_reports:
        if report.filled_at is not None:
            detail = f"{report.skill} x{report.count}"
            timeline.append(TimelineEntry(at=report.filled_at, event="need filled", detail=detail))
    if incident.closed_at is not None:
        timeline.append(TimelineEntry(at=incident.closed_at, event="closed", detail=incident.close_reason))
    timeline.sort(key=lambda e: e.at)
    closed = incident.status is IncidentStatus.closed
    attendance = [
        AttendanceRow(
            callout_id=c.id,
            volunteer_id=c.volunteer_id,
            name=name,
            skill=skill,
            eta_minutes=c.eta_minutes,
            checkin=c.checkin,
            arrived_at=c.arrived_at,
            done_at=c.done_at,
            hours=hours_between(c.arrived_at, c.done_at, c.entered_hours),
            no_show=closed and c.arrived_at is None and c.entered_hours is None,
        )
        for c, name, skill in accepted
    ]
    worked = [a.hours for a in attendance if a.hours is not None]
    return IncidentReport(
        incident=ReportIncident(
            id=incident.id,
            title=incident.title,
            kind=incident.kind.value,
            exercise=incident.exercise,
            emergency=incident.emergency,
            place=incident.place,
            status=incident.status.value,
            declared_at=declared,
            closed_at=incident.closed_at,
            close_reason=incident.close_reason,
        ),
        timeline=timeline,
        time_to_first_sms_s=_seconds(declared, first_sms),
        needs=need_reports,
        messages=_messages(session, incident_id),
        acceptance_by_distance=_bands(callouts),
        attendance=attendance,
        hours=HoursReport(total=round(sum(worked), 2), people=len(worked)),
    )
