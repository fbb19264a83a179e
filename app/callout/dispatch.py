"""What delivery means to the engine: which claimed messages are still wanted, and what a send that
failed for good or a call-up the network could not deliver does (a replacement is called; Twilio's
permanent errors mark the person). The lease mechanics are the message layer's (app/message/delivery.py).
"""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from alerts.sender import SendError, SendResult, consent_revoked, number_invalid
from app.audit.service import record
from app.callout import service as callouts
from app.callout.models import Callout, CalloutStatus
from app.incident.models import Incident, IncidentStatus
from app.message import delivery
from app.message.delivery import Outgoing
from app.message.models import CODE_KINDS, Message, MessageKind, MessageStatus
from app.message.retry import RetryPolicy
from app.message.service import apply_receipts, store_receipt
from app.metrics import MESSAGES_SENT
from app.signup import codes
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import set_status

# What may go to a phone no volunteer holds: a sign-up's code and the answer to JOIN. Nothing else is
# sent to a number until it is verified.
TO_STRANGERS = frozenset({MessageKind.verification_code, MessageKind.join_link})
# What goes even to a volunteer who opted out: what they asked for themselves, just now.
ASKED_FOR = frozenset({MessageKind.opted_in, *CODE_KINDS})


def _still_wanted(
    message: Message,
    volunteer: tuple[VolunteerStatus | None, str | None],
    callout_status: CalloutStatus | None,
    incident_status: IncidentStatus | None,
) -> str | None:
    """Why this message must not go now (None when it should)."""
    status, phone = volunteer
    if message.volunteer_id is None and message.kind in TO_STRANGERS:
        return None
    if message.kind is MessageKind.left:
        return None  # the last text after LEAVE, to the number the erasure captured
    if status is None or phone is None:
        return "volunteer gone"
    # A code was asked for on the web a moment ago (a duplicate sign-up's update): it goes even to
    # someone who texted STOP, as the answer to STOP itself does.
    if status is VolunteerStatus.opted_out and message.kind not in ASKED_FOR:
        return "volunteer opted out"
    if phone != message.to_number:
        return "volunteer's number changed"
    if message.kind is MessageKind.callup and message.callout_id is not None:
        if callout_status is not CalloutStatus.called:
            return "call-up no longer open"
        if incident_status is not IncidentStatus.open:
            return "incident closed"
    return None


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
    wanted = []
    for message, volunteer_status, phone, callout_status, incident_status in rows:
        reason = _still_wanted(message, (volunteer_status, phone), callout_status, incident_status)
        if reason is None:
            wanted.append(message)
        else:
            delivery.cancel(message, reason=reason)
    return delivery.lease(session, messages=wanted, holder=holder, lease_s=lease_s)


def record_sent(session: Session, *, message_id: int, result: SendResult) -> None:
    """Store the provider's SID; a receipt that raced ahead and says undelivered calls a replacement."""
    message = delivery.record_sent(session, message_id=message_id, result=result)
    MESSAGES_SENT.labels(message.kind.value).inc()
    if message.kind in CODE_KINDS:
        codes.restart_clock(session, message_id=message.id)
    if message.kind is MessageKind.left:
        _forget_number(message)
    if apply_receipts(session, message=message):
        _undelivered(session, message=message)


def _forget_number(message: Message) -> None:
    """The last text to an erased person is out (or failed for good): its number and SID go too."""
    message.to_number = ""
    message.provider_sid = None


def record_failure(
    session: Session,
    *,
    message_id: int,
    holder: str,
    error: SendError,
    retry: RetryPolicy,
    rng: random.Random,
) -> float | None:
    """Schedule a retry for a transient failure (returns the delay), or fail for good and act on why.

    Only `holder`'s failure counts: a lease taken back and given to another worker is that worker's now.
    """
    message = session.get_one(Message, message_id, with_for_update=True)
    if message.status is not MessageStatus.sending or message.claimed_by != holder:
        return None
    delay = delivery.retry_or_fail(session, message=message, error=error, retry=retry, rng=rng)
    if delay is not None:
        return delay
    if message.kind is MessageKind.left:
        _forget_number(message)
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
    elif number_invalid(code) and volunteer.phone_failed_at is None:
        # Marked whatever their status, so administrators see every number that needs correcting.
        volunteer.phone_failed_at = datetime.now(UTC)
        volunteer.phone_failure_code = code
    if number_invalid(code) and volunteer.status is VolunteerStatus.active:
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
