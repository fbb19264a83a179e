"""The coordinators' inbox: every message from a volunteer that the system did not act on by itself
(unreadable, ambiguous, late), the check-ins a coordinator should read, and the welfare checks nobody
answered. Each stays open until a coordinator resolves it: counted as YES or NO for a call-up (through
the engine, so fills and stand-downs happen as for a real answer), answered with a text, or handled."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from alerts import text
from app.audit.service import record
from app.callout import personal_data
from app.callout import service as callouts
from app.callout.models import Callout
from app.errors import Conflict, InvalidInput, NotFound
from app.inbox.models import InboxItem, InboxKind
from app.inbox.schemas import (
    InboxItemRead,
    InboxOpenCallout,
    InboxResolve,
    InboxState,
    ResolveAction,
)
from app.incident.models import Incident, IncidentStatus, Need
from app.message.models import Message, MessageKind
from app.message.service import link_inbound, outbound, queue_all
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.schemas import ExportInboxItem

WELFARE_NOTE = "no answer to the welfare check: needs a call"


def add_item(
    session: Session,
    *,
    kind: InboxKind,
    volunteer_id: int | None,
    incident_id: int | None = None,
    callout_id: int | None = None,
    message_id: int | None = None,
    note: str | None = None,
) -> InboxItem:
    """Put something in front of the coordinators; the note says why (never personal data)."""
    item = InboxItem(
        kind=kind,
        volunteer_id=volunteer_id,
        incident_id=incident_id,
        callout_id=callout_id,
        message_id=message_id,
        note=note[:300] if note else None,
    )
    session.add(item)
    session.flush()
    return item


def _filtered(incident_id: int | None, state: InboxState) -> list:
    where = []
    if incident_id is not None:
        where.append(InboxItem.incident_id == incident_id)
    if state is InboxState.open:
        where.append(InboxItem.handled_at.is_(None))
    elif state is InboxState.handled:
        where.append(InboxItem.handled_at.is_not(None))
    return where


def list_items(
    session: Session, *, incident_id: int | None, state: InboxState, limit: int, offset: int
) -> tuple[list[InboxItemRead], int]:
    """One page of items, newest first, and how many match."""
    where = _filtered(incident_id, state)
    total = session.scalar(select(func.count()).select_from(InboxItem).where(*where)) or 0
    items = list(
        session.scalars(
            select(InboxItem)
            .where(*where)
            .order_by(InboxItem.created_at.desc(), InboxItem.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return to_reads(session, items), total


def count_open(session: Session, *, incident_id: int | None) -> int:
    """How many items wait for a coordinator."""
    where = _filtered(incident_id, InboxState.open)
    return session.scalar(select(func.count()).select_from(InboxItem).where(*where)) or 0


def to_reads(session: Session, items: Sequence[InboxItem]) -> list[InboxItemRead]:
    """Items as coordinators see them, with each volunteer's call-ups in open incidents (a few queries)."""
    message_ids = [i.message_id for i in items if i.message_id is not None]
    bodies = dict(session.execute(select(Message.id, Message.body).where(Message.id.in_(message_ids))).all())
    volunteer_ids = {i.volunteer_id for i in items if i.volunteer_id is not None}
    names = dict(
        session.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(volunteer_ids))).all()
    )
    rows = session.execute(
        select(Callout, Incident.title, Need.skill_code)
        .join(Incident, Incident.id == Callout.incident_id)
        .join(Need, Need.id == Callout.need_id)
        .where(Callout.volunteer_id.in_(volunteer_ids), Incident.status == IncidentStatus.open)
        .order_by(Callout.called_at.desc())
    ).all()
    open_callouts: dict[int, list[InboxOpenCallout]] = {}
    for callout, title, skill in rows:
        open_callouts.setdefault(callout.volunteer_id, []).append(
            InboxOpenCallout(
                callout_id=callout.id,
                incident_id=callout.incident_id,
                incident_title=title,
                skill=skill,
                ref=callout.incident_id,
                status=callout.status.value,
            )
        )
    return [
        InboxItemRead(
            id=item.id,
            kind=item.kind,
            created_at=item.created_at,
            body=bodies.get(item.message_id) if item.message_id is not None else None,
            volunteer_id=item.volunteer_id,
            volunteer_name=names.get(item.volunteer_id) if item.volunteer_id is not None else None,
            incident_id=item.incident_id,
            callout_id=item.callout_id,
            note=item.note,
            open_callouts=open_callouts.get(item.volunteer_id, []) if item.volunteer_id is not None else [],
            handled_at=item.handled_at,
            handled_by=item.handled_by,
            resolution=item.resolution,
            resolution_detail=item.resolution_detail,
        )
        for item in items
    ]


def resolve(session: Session, *, item_id: int, data: InboxResolve, actor: str) -> InboxItemRead:
    """Resolve an open item once: count it as a YES or NO, text the volunteer back, or mark it handled."""
    item = session.scalar(select(InboxItem).where(InboxItem.id == item_id).with_for_update())
    if item is None:
        raise NotFound(f"inbox item {item_id} does not exist")
    if item.handled_at is not None:
        raise Conflict(f"inbox item {item_id} was already handled by {item.handled_by}")
    detail: dict[str, object] = {}
    match data.action:
        case ResolveAction.accept | ResolveAction.decline:
            callout, volunteer = _chosen_callout(session, item=item, callout_id=data.callout_id)
            # The incident is locked by accept/decline before the message points at the call-up.
            if data.action is ResolveAction.accept:
                detail["counted"] = callouts.accept(session, callout=callout, volunteer=volunteer)
            else:
                callouts.decline(session, callout=callout, volunteer=volunteer)
            if item.message_id is not None:
                link_inbound(
                    session.get_one(Message, item.message_id),
                    callout_id=callout.id,
                    incident_id=callout.incident_id,
                )
            detail["callout_id"] = callout.id
            resolution = "accepted" if data.action is ResolveAction.accept else "declined"
        case ResolveAction.reply:
            if data.text is None:
                raise InvalidInput("a reply needs its text")
            message = _text_back(session, item=item, body=data.text)
            detail |= {"message_id": message.id, "segments": message.segments}
            resolution = "replied"
        case _:
            resolution = "handled"
    item.handled_at = datetime.now(UTC)
    item.handled_by = actor[:120]
    item.resolution = resolution
    item.resolution_detail = detail
    session.flush()
    record(
        session,
        actor=actor,
        action="inbox.resolved",
        entity_type="inbox_item",
        entity_id=item.id,
        detail={"resolution": resolution, "incident_id": item.incident_id, **detail},
    )
    return to_reads(session, [item])[0]


def _chosen_callout(
    session: Session, *, item: InboxItem, callout_id: int | None
) -> tuple[Callout, Volunteer]:
    chosen = callout_id if callout_id is not None else item.callout_id
    if chosen is None:
        raise InvalidInput("choose the call-up this message answers (callout_id)")
    callout = session.get(Callout, chosen)
    if callout is None or item.volunteer_id is None or callout.volunteer_id != item.volunteer_id:
        raise InvalidInput(f"call-up {chosen} is not one of this volunteer's call-ups")
    volunteer = session.get_one(Volunteer, item.volunteer_id)
    if volunteer.status is VolunteerStatus.erased:
        raise InvalidInput("this volunteer was erased")
    return callout, volunteer


def _text_back(session: Session, *, item: InboxItem, body: str) -> Message:
    volunteer = session.get(Volunteer, item.volunteer_id) if item.volunteer_id is not None else None
    if volunteer is None or volunteer.phone is None:
        raise InvalidInput("this volunteer cannot be texted (no phone number)")
    incident = session.get(Incident, item.incident_id) if item.incident_id is not None else None
    message = outbound(
        volunteer_id=volunteer.id,
        to=volunteer.phone,
        kind=MessageKind.coordinator_text,
        body=text.coordinator_text(
            ref=incident.id if incident else None,
            text=body,
            exercise=bool(incident and incident.exercise),
            emergency=incident is None or incident.emergency,
        ),
        callout_id=item.callout_id,
        incident_id=item.incident_id,
    )
    queue_all(session, [message])
    return message


def flag_unanswered_welfare(session: Session, *, timeout_s: int) -> int:
    """An item for each welfare check unanswered past the timeout, once (database clock); returns how many."""
    flagged = exists().where(InboxItem.callout_id == Callout.id, InboxItem.kind == InboxKind.welfare)
    overdue = session.execute(
        select(Callout.id, Callout.volunteer_id, Callout.incident_id)
        .join(Volunteer, Volunteer.id == Callout.volunteer_id)
        .where(
            Callout.welfare_asked_at.is_not(None),
            Callout.welfare_ok_at.is_(None),
            Callout.welfare_asked_at < func.now() - timedelta(seconds=timeout_s),
            Volunteer.status != VolunteerStatus.erased,
            ~flagged,
        )
        .order_by(Callout.id)
    ).all()
    for callout_id, volunteer_id, incident_id in overdue:
        add_item(
            session,
            kind=InboxKind.welfare,
            volunteer_id=volunteer_id,
            incident_id=incident_id,
            callout_id=callout_id,
            note=WELFARE_NOTE,
        )
        record(
            session,
            actor="system",
            action="welfare.unanswered",
            entity_type="callout",
            entity_id=callout_id,
            detail={"incident_id": incident_id},
        )
    return len(overdue)


def close_welfare_items(session: Session, *, callout_ids: Sequence[int], actor: str) -> None:
    """A late OK closes the welfare items it answers, so nobody phones someone already safe at home."""
    items = session.scalars(
        select(InboxItem).where(
            InboxItem.callout_id.in_(list(callout_ids)),
            InboxItem.kind == InboxKind.welfare,
            InboxItem.handled_at.is_(None),
        )
    )
    for item in items:
        item.handled_at = datetime.now(UTC)
        item.handled_by = actor
        item.resolution = "handled"
        item.resolution_detail = {"welfare_ok": True}
    session.flush()


def items_of(session: Session, *, volunteer_id: int) -> list[ExportInboxItem]:
    """The person's inbox items, oldest first, for their subject-access export (app.subject)."""
    items = session.scalars(
        select(InboxItem).where(InboxItem.volunteer_id == volunteer_id).order_by(InboxItem.id)
    )
    return [personal_data.read_as(ExportInboxItem, i) for i in items]
