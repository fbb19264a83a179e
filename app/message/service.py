"""Outbound messages are rows first, then jobs; inbound messages are kept once per MessageSid."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from alerts.segments import count_segments
from app.db import insert_rows
from app.jobs import SEND_MESSAGES
from app.message.models import (
    HIGH_PRIORITY_KINDS,
    JOINING_KINDS,
    STATUS_RANK,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    Receipt,
)
from app.metrics import RECEIPT_LAG, seconds_between
from app.queue import HIGH, LOW, SIGNUP, PendingJob, enqueue_after_commit, messages_job_id
from app.volunteer.models import Volunteer

BATCH_SIZE = 20  # messages per send job: one RQ job and one claiming transaction for many sends


def send_jobs(
    items: Sequence[tuple[int, MessageKind]], *, delay_s: float | None = None, at_front: bool = False
) -> list[PendingJob]:
    """Send jobs for (message id, kind) pairs: batched, each batch on its kind's priority queue."""
    by_queue: dict[str, list[int]] = {}
    for message_id, kind in items:
        by_queue.setdefault(queue_for(kind), []).append(message_id)
    jobs = []
    for queue, ids in by_queue.items():
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            jobs.append(PendingJob(SEND_MESSAGES, (chunk,), queue, messages_job_id(chunk), delay_s, at_front))
    return jobs


def queue_for(kind: MessageKind) -> str:
    """Call-ups and answers first; stand-downs and information after; sign-ups' codes and welcomes
    last, so a surge of people joining never holds up an emergency."""
    if kind in HIGH_PRIORITY_KINDS:
        return HIGH
    return SIGNUP if kind in JOINING_KINDS else LOW


def outbound(
    *,
    volunteer_id: int | None,
    to: str,
    kind: MessageKind,
    body: str,
    callout_id: int | None = None,
    incident_id: int | None = None,
) -> Message:
    """A new outbound SMS row, not yet added to a session; volunteer_id is None only for a phone we do
    not know yet (a sign-up's code, the JOIN link)."""
    return Message(
        direction=Direction.outbound,
        kind=kind,
        volunteer_id=volunteer_id,
        callout_id=callout_id,
        incident_id=incident_id,
        to_number=to,
        body=body,
        segments=count_segments(body).segments,
        from_number="",
        status=MessageStatus.pending,
        attempts=0,
    )


def respond(session: Session, volunteer: Volunteer, kind: MessageKind, body: str) -> None:
    """Queue an answer to a volunteer's own number (none once they are erased)."""
    if volunteer.phone is not None:
        queue_all(session, [outbound(volunteer_id=volunteer.id, to=volunteer.phone, kind=kind, body=body)])


# What `outbound` fills in: the columns a new outbound row is written with (the rest are defaults).
OUTBOUND_COLUMNS = (
    "direction",
    "kind",
    "volunteer_id",
    "callout_id",
    "incident_id",
    "to_number",
    "from_number",
    "body",
    "segments",
    "status",
    "attempts",
)


def queue_all(session: Session, messages: Sequence[Message]) -> None:
    """Insert outbound SMS rows in one statement and queue their sending for after commit.

    Written with `insert_rows` (a wave or a surge of sign-up codes is one fixed-shape INSERT, however
    many): the Message objects are the values written, given their new ids, and stay outside the
    session; read a message back from the database to see it change.
    """
    rows = [{column: getattr(m, column) for column in OUTBOUND_COLUMNS} for m in messages]
    for message, message_id in zip(messages, insert_rows(session, Message, rows), strict=True):
        message.id = message_id
    enqueue_after_commit(session, *send_jobs([(m.id, m.kind) for m in messages]))


def cancel_unsent(
    session: Session, *, callout_ids: Sequence[int] = (), volunteer_id: int | None = None
) -> list[int]:
    """Cancel messages not yet handed to the provider; returns the ids of the call-ups they belonged to."""
    if not callout_ids and volunteer_id is None:
        return []
    where = [Message.status == MessageStatus.pending, Message.direction == Direction.outbound]
    if callout_ids:
        where.append(Message.callout_id.in_(list(callout_ids)))
    if volunteer_id is not None:
        where.append(Message.volunteer_id == volunteer_id)
    rows = session.execute(
        update(Message)
        .where(*where)
        .values(status=MessageStatus.cancelled, error_message="cancelled before sending")
        .returning(Message.callout_id)
    ).all()
    return [cid for (cid,) in rows if cid is not None]


def inbound_insert(
    *,
    sid: str,
    from_number: str,
    to_number: str,
    body: str,
    volunteer_id: ColumnElement[Any],
    when: ColumnElement[bool],
) -> ReturningInsert[int, int | None]:
    """The statement that keeps an inbound SMS once per MessageSid (webhooks arrive twice, and again
    at the fallback URL), if `when` holds; it returns the new row's (id, volunteer_id)."""
    values = {
        "direction": Direction.inbound,
        "kind": MessageKind.reply,
        "to_number": to_number,
        "from_number": from_number,
        "body": body,
        "segments": count_segments(body).segments,
        "status": MessageStatus.received,
        "provider_sid": sid,
        "attempts": 0,
    }
    columns = Message.__table__.c
    row = select(*(literal(v, columns[k].type) for k, v in values.items()), volunteer_id).where(when)
    return (
        insert(Message)
        .from_select([*values, "volunteer_id"], row)
        .on_conflict_do_nothing(index_elements=[Message.provider_sid])
        .returning(Message.id, Message.volunteer_id)
    )


def link_inbound(message: Message, *, callout_id: int | None, incident_id: int | None) -> None:
    """Tie a reply to the call-up it answered."""
    message.callout_id = callout_id
    message.incident_id = incident_id


def advance_status(
    message: Message, *, status: MessageStatus, error_code: int | None = None, error: str | None = None
) -> bool:
    """Move a message's status forward only; False when the update is stale or repeated."""
    if STATUS_RANK[status] <= STATUS_RANK[message.status]:
        return False
    message.status = status
    now = datetime.now(UTC)
    if status is MessageStatus.delivered:
        message.delivered_at = now
    if error_code is not None:
        message.error_code = error_code
    if error is not None:
        message.error_message = error[:300]
    return True


RECEIPT_STATUSES = {
    "accepted": MessageStatus.queued,
    "queued": MessageStatus.queued,
    "sending": MessageStatus.queued,
    "sent": MessageStatus.sent,
    "delivered": MessageStatus.delivered,
    "undelivered": MessageStatus.undelivered,
    "failed": MessageStatus.failed,
}


# The receipts that end a message's delivery: the lag to these is the receipt lag.
FINAL_RECEIPTS = frozenset({MessageStatus.delivered, MessageStatus.undelivered, MessageStatus.failed})


def store_receipt(session: Session, *, sid: str, status: str, error_code: int | None) -> bool:
    """Keep a delivery receipt; False when the same (sid, status) was already received."""
    statement = (
        insert(Receipt)
        .values(provider_sid=sid, status=status, error_code=error_code, applied=False)
        .on_conflict_do_nothing(constraint="uq_receipts_sid_status")
        .returning(Receipt.id)
    )
    return session.scalar(statement) is not None


def apply_receipts(session: Session, *, message: Message) -> bool:
    """Apply stored receipts for this message's SID in rank order; True if it ended undelivered or failed."""
    if message.provider_sid is None:
        return False
    receipts = session.scalars(
        select(Receipt).where(Receipt.provider_sid == message.provider_sid, Receipt.applied.is_(False))
    ).all()
    ended_badly = False
    for receipt in sorted(
        receipts, key=lambda r: STATUS_RANK[RECEIPT_STATUSES.get(r.status, message.status)]
    ):
        receipt.applied = True
        status = RECEIPT_STATUSES.get(receipt.status)
        if status is None:
            continue
        moved = advance_status(message, status=status, error_code=receipt.error_code)
        if moved and status in FINAL_RECEIPTS:
            lag = seconds_between(message.sent_at, receipt.received_at)
            if lag is not None:
                RECEIPT_LAG.observe(lag)
        if moved and status in (MessageStatus.undelivered, MessageStatus.failed):
            ended_badly = True
    return ended_badly
