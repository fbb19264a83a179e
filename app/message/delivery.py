"""Sending one message and recording what happened, in short transactions around the provider call.

These are the mechanics of a message; which messages are still wanted and what a failure means for a
call-up are the engine's (app/callout/dispatch.py). The provider call happens outside any
transaction. Claiming a message marks it `sending` (committed) under a lease: the row records which
worker process holds it and until when, on the database's clock. The holder renews its leases while
it lives and records the SID after the call; a worker killed in between stops renewing, and the
reconciler takes the message back once the lease runs out. A message the provider had already
accepted is then sent again: that is the only way a duplicate can happen.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from alerts.sender import SendError, SendResult
from app.audit.service import record
from app.message.models import Direction, Message, MessageKind, MessageStatus
from app.message.retry import RetryPolicy, next_attempt_at, retry_delay_s
from app.message.service import RECEIPT_STATUSES, advance_status, send_jobs
from app.queue import enqueue_after_commit


@dataclass(frozen=True)
class Outgoing:
    """What the worker needs to make the provider call, read under lock."""

    message_id: int
    to: str
    body: str


def _lease(lease_s: float) -> object:
    """The end of a lease starting now, on the database's clock."""
    return func.now() + timedelta(seconds=lease_s)


def lease(session: Session, *, messages: Sequence[Message], holder: str, lease_s: float) -> list[Outgoing]:
    """Lease these locked, pending messages to `holder`: `sending`, one attempt more, until the lease ends."""
    claimed = [Outgoing(m.id, m.to_number, m.body) for m in messages]
    if claimed:
        session.execute(
            update(Message)
            .where(Message.id.in_([c.message_id for c in claimed]))
            .values(
                status=MessageStatus.sending,
                attempts=Message.attempts + 1,
                claimed_by=holder,
                lease_until=_lease(lease_s),
            )
            .execution_options(synchronize_session="fetch")
        )
    return claimed


def cancel(message: Message, *, reason: str) -> None:
    """A pending message that must not go any more."""
    message.status = MessageStatus.cancelled
    message.error_message = reason


def start(session: Session, *, message_id: int, holder: str, lease_s: float) -> bool:
    """Confirm, before the provider call (and again after a long wait for the send rate), that `holder`
    still holds this lease, and renew it.

    False when the lease ran out and the reconciler took the message back: then the job it queued
    sends it, not us.
    """
    still_ours = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == MessageStatus.sending,
            Message.claimed_by == holder,
        )
        .values(lease_until=_lease(lease_s))
        .returning(Message.id)
    ).first()
    return still_ours is not None


def renew(session: Session, *, holder: str, lease_s: float) -> int:
    """The heartbeat: extend every lease `holder` holds; returns how many."""
    result = session.execute(
        update(Message)
        .where(Message.status == MessageStatus.sending, Message.claimed_by == holder)
        .values(lease_until=_lease(lease_s))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def take_back_expired(session: Session) -> Sequence[tuple[int, MessageKind]]:
    """Put messages whose lease ran out (their worker died) back to pending; their ids and kinds."""
    rows = session.execute(
        update(Message)
        .where(
            Message.status == MessageStatus.sending,
            Message.direction == Direction.outbound,
            Message.lease_until < func.now(),
        )
        .values(status=MessageStatus.pending, claimed_by=None, lease_until=None, next_attempt_at=None)
        .returning(Message.id, Message.kind)
        .execution_options(synchronize_session=False)
    ).all()
    return [(message_id, kind) for message_id, kind in rows]


def record_sent(session: Session, *, message_id: int, result: SendResult) -> Message:
    """Store the provider's SID and apply any receipt that raced ahead of us; the message, locked."""
    message = session.get_one(Message, message_id, with_for_update=True)
    message.provider_sid = result.sid
    message.sent_at = datetime.now(UTC)
    if result.from_number:  # which of our senders it left from, for the record
        message.from_number = result.from_number
    message.claimed_by = message.lease_until = None
    status = RECEIPT_STATUSES.get(result.status, MessageStatus.queued)
    advance_status(message, status=status)
    session.flush()
    return message


def retry_or_fail(
    session: Session, *, message: Message, error: SendError, retry: RetryPolicy, rng: random.Random
) -> float | None:
    """A locked message's send failed: schedule a retry for a transient failure (returns the delay), or
    mark it failed for good (None; what that means for a call-up is the engine's: app/callout/dispatch.py).
    """
    message.claimed_by = message.lease_until = None
    message.error_code = error.code
    message.error_message = error.message[:300]
    delay = retry_delay_s(error, attempts=message.attempts, retry=retry, rng=rng)
    if delay is not None:
        message.status = MessageStatus.pending
        message.next_attempt_at = next_attempt_at(datetime.now(UTC), delay)
        enqueue_after_commit(session, *send_jobs([(message.id, message.kind)], delay_s=delay))
        return delay
    message.status = MessageStatus.failed
    session.flush()
    record(
        session,
        actor="system",
        action="message.failed",
        entity_type="message",
        entity_id=message.id,
        detail={"code": error.code, "error": error.message[:300], "attempts": message.attempts},
    )
    return None
