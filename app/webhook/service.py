"""Reading a volunteer's SMS and doing what it asks: answer a call-up, opt out or in, get help.

Replies are matched to a call-up without guessing: a reference number picks it; without one, the
volunteer's only open call-up is meant; with several open, we ask which; anything we do not understand is
kept for a coordinator and answered with help text, so nobody is left wondering whether it worked.
"""

from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Integer, String, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from alerts import text
from alerts.replies import Reply, ReplyIntent, parse_reply
from app.audit.service import record
from app.callout import service as callouts
from app.callout.models import Callout, CalloutStatus
from app.errors import DomainError
from app.incident.models import Incident, IncidentStatus
from app.message.models import Message, MessageKind, Receipt
from app.message.service import inbound_insert, link_inbound, outbound, queue_all
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import set_status
from app.webhook.fields import InboundSms, ReceiptFields
from app.webhook.models import InboundPending
from app.webhook.signature import claim, replayed

LATE_ANSWER_WINDOW = timedelta(hours=24)
INBOX_LOCK = 8209  # advisory lock class: one volunteer's SMS are acted on one at a time, in order
OPT_OUT_TYPES = {"STOP": ReplyIntent.STOP, "START": ReplyIntent.START, "HELP": ReplyIntent.HELP}


def intent_of(body: str, opt_out_type: str | None) -> Reply:
    """Our reading of a reply; Twilio's OptOutType wins for STOP/HELP, but its YES-as-START does not."""
    reply = parse_reply(body)
    override = OPT_OUT_TYPES.get((opt_out_type or "").upper())
    if override is ReplyIntent.START and reply.intent is ReplyIntent.YES:
        return reply
    if override is not None:
        return Reply(override)
    return reply


def _open_callouts(session: Session, volunteer_id: int, statuses: tuple[CalloutStatus, ...]) -> list[Callout]:
    return list(
        session.scalars(
            select(Callout)
            .join(Incident, Incident.id == Callout.incident_id)
            .where(
                Callout.volunteer_id == volunteer_id,
                Callout.status.in_(statuses),
                Incident.status == IncidentStatus.open,
            )
            .order_by(Callout.called_at.desc())
        )
    )


def _respond(session: Session, volunteer: Volunteer, kind: MessageKind, body: str) -> None:
    if volunteer.phone is not None:
        queue_all(session, [outbound(volunteer_id=volunteer.id, to=volunteer.phone, kind=kind, body=body)])


def _exercise(session: Session, callouts_: list[Callout]) -> bool:
    ids = {c.incident_id for c in callouts_}
    return bool(ids) and all(session.get_one(Incident, i).exercise for i in ids)


def _target(session: Session, volunteer: Volunteer, reply: Reply) -> Callout | list[Callout] | None:
    """The call-up a YES/NO answers; a list when it is ambiguous; None when there is none."""
    if reply.ref is not None:
        return session.scalar(
            select(Callout).where(Callout.incident_id == reply.ref, Callout.volunteer_id == volunteer.id)
        )
    waiting = _open_callouts(session, volunteer.id, (CalloutStatus.called,))
    if len(waiting) == 1:
        return waiting[0]
    if len(waiting) > 1:
        return waiting
    if reply.intent is ReplyIntent.NO:
        accepted = _open_callouts(session, volunteer.id, (CalloutStatus.accepted,))
        return accepted[0] if len(accepted) == 1 else (accepted or None)
    since = datetime.now(UTC) - LATE_ANSWER_WINDOW
    return session.scalar(
        select(Callout)
        .where(Callout.volunteer_id == volunteer.id, Callout.called_at > since)
        .order_by(Callout.called_at.desc())
        .limit(1)
    )


def store_inbound(session: Session, *, sms: InboundSms, signature: str) -> int | None:
    """Claim the signature and keep an inbound SMS to act on right after, in one statement.

    Returns the new message's id, or None when its MessageSid is already stored (Twilio's fallback
    URL, a repeat); raises ReplayedWebhook, storing nothing, when the signature was seen before.
    """
    claimed = claim(signature).cte("claimed")
    message = inbound_insert(
        sid=sms.sid,
        from_number=sms.from_number,
        to_number=sms.to_number,
        body=sms.body,
        volunteer_id=select(Volunteer.id).where(Volunteer.phone == sms.from_number).scalar_subquery(),
        when=exists(select(claimed.c.signature)),
    ).cte("message")
    pending = (
        insert(InboundPending)
        .from_select(
            ["message_id", "volunteer_id", "opt_out_type"],
            select(message.c.id, message.c.volunteer_id, literal(sms.opt_out_type, String(10))),
        )
        .returning(InboundPending.message_id)
        .cte("pending")
    )
    was_new, message_id = session.execute(
        select(
            exists(select(claimed.c.signature)),
            select(pending.c.message_id).scalar_subquery(),
        )
    ).one()
    if not was_new:
        raise replayed()
    return cast(int | None, message_id)


def store_receipt_once(session: Session, *, receipt: ReceiptFields, signature: str) -> bool:
    """Claim the signature and keep a receipt (once per MessageSid and status), in one statement.

    True when the receipt is new; raises ReplayedWebhook, storing nothing, for a signature seen before.
    """
    claimed = claim(signature).cte("claimed")
    stored = (
        insert(Receipt)
        .from_select(
            ["provider_sid", "status", "error_code", "applied"],
            select(
                literal(receipt.sid, String(64)),
                literal(receipt.status, String(20)),
                literal(receipt.error_code, Integer),
                literal(False),
            ).where(exists(select(claimed.c.signature))),
        )
        .on_conflict_do_nothing(constraint="uq_receipts_sid_status")
        .returning(Receipt.id)
        .cte("stored")
    )
    was_new, receipt_id = session.execute(
        select(exists(select(claimed.c.signature)), select(stored.c.id).scalar_subquery())
    ).one()
    if not was_new:
        raise replayed()
    return receipt_id is not None


def process_oldest(session: Session) -> bool:
    """Act on the oldest stored SMS nobody else is acting on; False when there is none left.

    A sender's messages are acted on one at a time in the order they arrived (an advisory lock per
    volunteer, then their oldest message), and each is deleted from the inbox in the transaction that
    acts on it, so it is acted on exactly once, whichever worker gets to it.
    """
    candidate = session.scalar(
        select(InboundPending).order_by(InboundPending.message_id).limit(1).with_for_update(skip_locked=True)
    )
    if candidate is None:
        return False
    pending = candidate
    if candidate.volunteer_id is not None:
        session.execute(select(func.pg_advisory_xact_lock(INBOX_LOCK, candidate.volunteer_id)))
        oldest = session.scalar(
            select(InboundPending)
            .where(InboundPending.volunteer_id == candidate.volunteer_id)
            .order_by(InboundPending.message_id)
            .limit(1)
            .with_for_update()
        )
        if oldest is None:
            return True
        pending = oldest
    message = session.get_one(Message, pending.message_id)
    volunteer = session.get(Volunteer, pending.volunteer_id) if pending.volunteer_id else None
    act_on_inbound(session, message=message, volunteer=volunteer, opt_out_type=pending.opt_out_type)
    session.delete(pending)
    session.flush()
    return True


def act_on_inbound(
    session: Session,
    *,
    message: Message,
    volunteer: Volunteer | None,
    opt_out_type: str | None,
) -> None:
    """Do what a stored SMS asks: answer a call-up, opt out or in, get help, or keep it for a person."""
    if volunteer is None or volunteer.status is VolunteerStatus.erased:
        record(session, actor="sms", action="sms.unknown_sender", entity_type="message", entity_id=message.id)
        return
    reply = intent_of(message.body, opt_out_type)
    actor = f"volunteer:{volunteer.id}"
    match reply.intent:
        case ReplyIntent.STOP:
            set_status(volunteer, VolunteerStatus.opted_out)
            record(
                session,
                actor=actor,
                action="volunteer.opted_out",
                entity_type="volunteer",
                entity_id=volunteer.id,
            )
            callouts.release_volunteer(session, volunteer_id=volunteer.id, reason="opted out")
        case ReplyIntent.START:
            if volunteer.status is VolunteerStatus.opted_out:
                set_status(volunteer, VolunteerStatus.active)
                record(
                    session,
                    actor=actor,
                    action="volunteer.opted_in",
                    entity_type="volunteer",
                    entity_id=volunteer.id,
                )
            _respond(session, volunteer, MessageKind.opted_in, text.opted_in_text())
        case ReplyIntent.HELP:
            _respond(session, volunteer, MessageKind.help, text.help_text())
        case ReplyIntent.YES | ReplyIntent.NO:
            _answer(session, volunteer=volunteer, reply=reply, message=message)
        case _:
            record(
                session,
                actor=actor,
                action="sms.unrecognised",
                entity_type="message",
                entity_id=message.id,
                detail={"needs_coordinator": True},
            )
            _respond(session, volunteer, MessageKind.unknown_reply, text.unknown_reply_text())


def _answer(session: Session, *, volunteer: Volunteer, reply: Reply, message: Message) -> None:
    if volunteer.status is VolunteerStatus.opted_out:
        _respond(session, volunteer, MessageKind.no_open_callup, text.no_open_callup_text())
        return
    target = _target(session, volunteer, reply)
    if isinstance(target, list):
        refs = sorted({c.incident_id for c in target})
        record(
            session,
            actor=f"volunteer:{volunteer.id}",
            action="sms.ambiguous",
            entity_type="message",
            entity_id=message.id,
            detail={"refs": refs},
        )
        body = text.ask_reference_text(refs=refs, exercise=_exercise(session, target))
        _respond(session, volunteer, MessageKind.ask_reference, body)
        return
    if target is None:
        _respond(session, volunteer, MessageKind.no_open_callup, text.no_open_callup_text())
        return
    # The incident is locked (inside accept/decline) before the reply row points at it: a write that
    # references the incident takes a key-share lock on it first, and many replies each holding that
    # and then asking for the incident's lock deadlock (one every deadlock_timeout under a burst).
    if reply.intent is ReplyIntent.YES:
        callouts.accept(session, callout=target, volunteer=volunteer)
    else:
        callouts.decline(session, callout=target, volunteer=volunteer)
    link_inbound(message, callout_id=target.id, incident_id=target.incident_id)


def record_refusal(session: Session, *, path: str, refused: DomainError) -> None:
    """Keep a refused webhook in the audit trail: which path and why, never a number or a body."""
    record(
        session,
        actor="twilio-webhook",
        action="webhook.refused",
        entity_type="webhook",
        entity_id=None,
        detail={"path": path, "reason": type(refused).__name__, "detail": refused.detail},
    )
