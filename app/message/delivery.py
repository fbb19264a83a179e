"""Sending one message and recording what happened, in short transactions around the provider call.

The provider call happens outside any transaction. Claiming a message marks it `sending` (committed)
under a lease: the row records which worker process holds it and until when, on the database's clock.
The holder renews its leases while it lives and records the SID after the call; a worker killed in
between stops renewing, and the reconciler takes the message back once the lease runs out. A message
the provider had already accepted is then sent again: that is the only way a duplicate can happen.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from alerts.sender import SendError, SendResult, consent_revoked, number_invalid
from app.audit.service import record
from app.callout import service as callouts
from app.callout.models import Callout, CalloutStatus
from app.incident.models import Incident, IncidentStatus
from app.message.models import Direction, Message, MessageKind, MessageStatus
from app.message.retry import RetryPolicy, next_attempt_at, retry_delay_s
from app.message.service import (
    RECEIPT_STATUSES,
    advance_status,
    apply_receipts,
    send_jobs,
    store_receipt,
)
from app.queue import enqueue_after_commit
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import set_status


@dataclass(frozen=True)
class Outgoing:
    """What the worker needs to make the provider call, read under lock."""

    message_id: int
    to: str
    body: str


def _still_wanted(
    message: Message,
    volunteer: tuple[VolunteerStatus | None, str | None],
    callout_status: CalloutStatus | None,
    incident_status: IncidentStatus | None,
) -> str | None:
    """Why this message must not go now (None when it should)."""
    status, phone = volunteer
    if status is None or phone is None:
        return "volunteer gone"
    if status is VolunteerStatus.opted_out and message.kind is not MessageKind.opted_in:
        return "volunteer opted out"
    if phone != message.to_number:
        return "volunteer's number changed"
    if message.kind is MessageKind.callup and message.callout_id is not None:
        if callout_status is not CalloutStatus.called:
            return "call-up no longer open"
        if incident_status is not IncidentStatus.open:
            return "incident closed"
    return None


def _lease(lease_s: float) -> object:
    """The end of a lease starting now, on the database's clock."""
    return func.now() + timedelta(seconds=lease_s)


def claim(session: Session, *, message_ids: list[int], holder: str, lease_s: float) -> list[Outgoing]:
    """Lock the pending, due, still wanted messages among these and lease them to `holder` (`sending`).

    Rows another transaction holds are skipped (the reconciler finds them again); unwanted ones are
    cancelled here.
    """
    rows = session.execute(
        select(Message, Volunteer.status, Volunteer.phone, Callout.status, Incident.status)
        .outerjoin(Volunteer, Volunteer.id == Message.volunteer_id)
        .outerjoin(Callout, Callout.id == Message.callout_id)
        .outerjoin(Incident, Incident.id == Message.incident_id)
        .where(
            Message.id.in_(message_ids),
            Message.status == MessageStatus.pending,
            or_(
                Message.next_attempt_at.is_(None),
                Message.next_attempt_at <= func.now() + timedelta(seconds=1),
            ),
        )
        .order_by(Message.id)
        .with_for_update(of=Message, skip_locked=True)
    ).all()
    claimed = []
    for message, volunteer_status, phone, callout_status, incident_status in rows:
        reason = _still_wanted(message, (volunteer_status, phone), callout_status, incident_status)
        if reason is not None:
            message.status = MessageStatus.cancelled
            message.error_message = reason
            continue
        claimed.append(Outgoing(message.id, message.to_number, message.body))
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


def start(session: Session, *, message_id: int, holder: str, lease_s: float) -> bool:
    """Confirm, just before the provider call, that `holder` still holds this lease, and renew it.

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


def record_sent(session: Session, *, message_id: int, result: SendResult) -> None:
    """Store the provider's SID and apply any receipt that raced ahead of us."""
    message = session.get_one(Message, message_id, with_for_update=True)
    message.provider_sid = result.sid
    message.sent_at = datetime.now(UTC)
    message.claimed_by = message.lease_until = None
    status = RECEIPT_STATUSES.get(result.status, MessageStatus.queued)
    advance_status(message, status=status)
    session.flush()
    if apply_receipts(session, message=message):
        _undelivered(session, message=message)


def record_failure(
    session: Session,
    *,
    message_id: int,
    error: SendError,
    retry: RetryPolicy,
    rng: random.Random,
) -> float | None:
    """Schedule a retry for a transient failure (returns the delay), or fail for good and act on why."""
    message = session.get_one(Message, message_id, with_for_update=True)
    if message.status is not MessageStatus.sending:
        return None
    message.claimed_by = message.lease_until = None
    delay = retry_delay_s(error, attempts=message.attempts, retry=retry, rng=rng)
    if delay is not None:
        message.status = MessageStatus.pending
        message.next_attempt_at = next_attempt_at(datetime.now(UTC), delay)
        message.error_code = error.code
        message.error_message = error.message[:300]
        enqueue_after_commit(session, *send_jobs([(message.id, message.kind)], delay_s=delay))
        return delay
    message.status = MessageStatus.failed
    message.error_code = error.code
    message.error_message = error.message[:300]
    session.flush()
    record(
        session,
        actor="system",
        action="message.failed",
        entity_type="message",
        entity_id=message.id,
        detail={"code": error.code, "error": error.message[:300], "attempts": message.attempts},
    )
    if message.kind is MessageKind.callup and message.callout_id is not None:
        callouts.replace_failed(
            session,
            callout_id=message.callout_id,
            reason=f"send failed: {error.code or error.message}",
        )
    _act_on_code(session, message=message, code=error.code)
    return None


def _act_on_code(session: Session, *, message: Message, code: int | None) -> None:
    """Twilio's permanent errors say something about the person: record it so we stop trying."""
    if message.volunteer_id is None:
        return
    volunteer = session.get_one(Volunteer, message.volunteer_id)
    if consent_revoked(code) and volunteer.status is not VolunteerStatus.opted_out:
        set_status(volunteer, VolunteerStatus.opted_out)
        record(
            session,
            actor="system",
            action="volunteer.opted_out",
            entity_type="volunteer",
            entity_id=volunteer.id,
            detail={"code": code},
        )
        callouts.release_volunteer(session, volunteer_id=volunteer.id, reason="opted out")
    elif number_invalid(code) and volunteer.status is VolunteerStatus.active:
        callouts.release_volunteer(
            session,
            volunteer_id=volunteer.id,
            reason="number invalid",
            status=VolunteerStatus.paused,
        )
        record(
            session,
            actor="system",
            action="volunteer.number_invalid",
            entity_type="volunteer",
            entity_id=volunteer.id,
            detail={"code": code},
        )


def _undelivered(session: Session, *, message: Message) -> None:
    """A call-up the network could not deliver counts as failed, and a replacement is called."""
    record(
        session,
        actor="system",
        action="message.undelivered",
        entity_type="message",
        entity_id=message.id,
        detail={"status": message.status.value, "code": message.error_code},
    )
    if message.kind is MessageKind.callup and message.callout_id is not None:
        reason = f"{message.status.value} ({message.error_code})"
        callouts.replace_failed(session, callout_id=message.callout_id, reason=reason)


def receive_receipt(session: Session, *, sid: str, status: str, error_code: int | None) -> None:
    """A delivery receipt: stored once, applied forward-only to its message when we know the SID."""
    if not store_receipt(session, sid=sid, status=status, error_code=error_code):
        return
    message = session.scalar(select(Message).where(Message.provider_sid == sid).with_for_update())
    if message is not None:
        apply_stored_receipts(session, message=message)


def apply_stored_receipts(session: Session, *, message: Message) -> None:
    """Apply a locked message's stored receipts; an undelivered call-up is replaced."""
    if apply_receipts(session, message=message):
        _undelivered(session, message=message)
