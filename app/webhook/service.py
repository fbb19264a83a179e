"""Reading a volunteer's SMS and doing what it asks: answer a call-up, opt out or in, get help.

Replies are matched to a call-up without guessing: a reference number picks it; without one, the
volunteer's only open call-up is meant; with several open, we ask which. A number after YES that is not
one of the volunteer's call-ups is an ETA in minutes. Check-ins (ENROUTE, ARRIVED, LATE n, DONE, an ETA)
go on the volunteer's confirmed call-up; OK answers a welfare check. Every message we do not act on by
ourselves (unreadable, could be yes or no, a late answer, a check-in without a deployment) becomes an
inbox item for a coordinator, and every message is answered, so nobody is left wondering whether it
worked.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Integer, String, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from alerts import text
from alerts.replies import MAX_ETA_MINUTES, Reply, ReplyIntent, parse_reply
from alerts.text import Checkin
from app.activity.service import award_milestones
from app.audit.service import record
from app.callout import service as callouts
from app.callout import welfare
from app.callout.models import Callout, CalloutStatus
from app.errors import DomainError
from app.inbox.models import InboxKind
from app.inbox.service import add_item, close_welfare_items
from app.incident.models import Incident, IncidentStatus
from app.incident.service import lock_incident
from app.message.models import Message, MessageKind, Receipt
from app.message.service import inbound_insert, link_inbound, outbound, queue_all, respond
from app.upkeep import service as upkeep
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import confirm_available, set_status
from app.webhook import self_service
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


def _exercise(session: Session, callouts_: list[Callout]) -> bool:
    ids = {c.incident_id for c in callouts_}
    return bool(ids) and all(session.get_one(Incident, i).exercise for i in ids)


def _emergency(session: Session, callouts_: list[Callout]) -> bool:
    """False (the text is marked as not an emergency) only when every call-up is for an ask."""
    ids = {c.incident_id for c in callouts_}
    return not ids or any(session.get_one(Incident, i).emergency for i in ids)


def _target(session: Session, volunteer: Volunteer, reply: Reply) -> Callout | list[Callout] | None:
    """The call-up a YES/NO answers; a list when it is ambiguous; None when there is none."""
    if reply.ref is not None:
        return session.scalar(
            select(Callout).where(Callout.incident_id == reply.ref, Callout.volunteer_id == volunteer.id)
        )
    waiting = callouts.open_callouts(session, volunteer.id, (CalloutStatus.called,))
    if len(waiting) == 1:
        return waiting[0]
    if len(waiting) > 1:
        return waiting
    if reply.intent is ReplyIntent.NO:
        accepted = callouts.open_callouts(session, volunteer.id, (CalloutStatus.accepted,))
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
    reply = intent_of(message.body, opt_out_type)
    if volunteer is None or volunteer.status is VolunteerStatus.erased:
        self_service.stranger(session, message=message)
        return
    actor = f"volunteer:{volunteer.id}"
    match reply.intent:
        case ReplyIntent.STOP:
            # The status is set by the release, after it has locked the volunteer's incidents: the
            # order every release takes, so a STOP and a wave never wait for each other.
            callouts.release_volunteer(
                session, volunteer_id=volunteer.id, reason="opted out", status=VolunteerStatus.opted_out
            )
            record(
                session,
                actor=actor,
                action="volunteer.opted_out",
                entity_type="volunteer",
                entity_id=volunteer.id,
            )
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
            respond(session, volunteer, MessageKind.opted_in, text.opted_in_text())
        case ReplyIntent.HELP:
            respond(session, volunteer, MessageKind.help, text.help_text())
        case ReplyIntent.YES | ReplyIntent.NO:
            _answer(session, volunteer=volunteer, reply=reply, message=message)
        case (
            ReplyIntent.ETA | ReplyIntent.ENROUTE | ReplyIntent.ARRIVED | ReplyIntent.LATE | ReplyIntent.DONE
        ):
            _checkin(session, volunteer=volunteer, reply=reply, message=message)
        case ReplyIntent.OK:
            _ok(session, volunteer=volunteer, reply=reply, message=message)
        case ReplyIntent.PAUSE:
            if not self_service.pause(session, volunteer=volunteer, reply=reply):
                _unreadable(session, volunteer=volunteer, message=message)
        case ReplyIntent.BACK:
            self_service.back(session, volunteer=volunteer)
        case ReplyIntent.STATUS:
            self_service.status(session, volunteer=volunteer)
        case ReplyIntent.LEAVE:
            self_service.leave(session, volunteer=volunteer, reply=reply)
        case ReplyIntent.PASSPORT:
            self_service.passport(session, volunteer=volunteer)
        case ReplyIntent.EMERGENCIES_ONLY | ReplyIntent.ALL_ASKS:
            only = reply.intent is ReplyIntent.EMERGENCIES_ONLY
            self_service.emergencies_only(session, volunteer=volunteer, only=only)
        case ReplyIntent.JOIN:
            self_service.already_joined(session, volunteer=volunteer)
        case ReplyIntent.AMBIGUOUS:
            _unclear(session, volunteer=volunteer, message=message)
        case _:
            _unreadable(session, volunteer=volunteer, message=message)


def _inbox(
    session: Session,
    *,
    kind: InboxKind,
    volunteer: Volunteer,
    message: Message,
    note: str,
    callout: Callout | None = None,
) -> None:
    """Keep a message for a coordinator, on its call-up when we know which one (the message is tied to
    it too, so the incident's timeline and report show the reply)."""
    if callout is not None:
        link_inbound(message, callout_id=callout.id, incident_id=callout.incident_id)
    add_item(
        session,
        kind=kind,
        volunteer_id=volunteer.id,
        incident_id=callout.incident_id if callout else None,
        callout_id=callout.id if callout else None,
        message_id=message.id,
        note=note,
    )


def _only(callouts_: list[Callout]) -> Callout | None:
    return callouts_[0] if len(callouts_) == 1 else None


def _unreadable(session: Session, *, volunteer: Volunteer, message: Message) -> None:
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="sms.unrecognised",
        entity_type="message",
        entity_id=message.id,
        detail={"needs_coordinator": True},
    )
    waiting = callouts.open_callouts(session, volunteer.id)
    _inbox(
        session,
        kind=InboxKind.unreadable,
        volunteer=volunteer,
        message=message,
        note="could not read this reply",
        callout=_only(waiting),
    )
    respond(session, volunteer, MessageKind.unknown_reply, text.unknown_reply_text())


def _unclear(session: Session, *, volunteer: Volunteer, message: Message) -> None:
    """A reply that could be a yes or a no: asked back (never taken as a YES) and kept for a coordinator."""
    waiting = callouts.open_callouts(session, volunteer.id, (CalloutStatus.called,))
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="sms.ambiguous",
        entity_type="message",
        entity_id=message.id,
        detail={"refs": sorted({c.incident_id for c in waiting}), "needs_coordinator": True},
    )
    _inbox(
        session,
        kind=InboxKind.ambiguous,
        volunteer=volunteer,
        message=message,
        note="could be a yes or a no; asked back" if waiting else "could be a yes or a no",
        callout=_only(waiting),
    )
    if waiting:
        body = text.ask_yes_or_no_text(
            refs=[c.incident_id for c in waiting],
            exercise=_exercise(session, waiting),
            emergency=_emergency(session, waiting),
        )
        respond(session, volunteer, MessageKind.ask_reference, body)
    else:
        respond(session, volunteer, MessageKind.unknown_reply, text.unknown_reply_text())


def _placed(session: Session, volunteer: Volunteer, reply: Reply) -> Reply | None:
    """Place a bare number after YES: one of the volunteer's call-ups is a reference, else an ETA.

    None when it cannot be placed without guessing: the number names a call-up of theirs that is over
    while another waits for an answer, or it is neither a call-up of theirs nor a plausible ETA.
    """
    if reply.number is None:
        return reply
    number = reply.number
    mine = session.scalar(
        select(Callout).where(Callout.incident_id == number, Callout.volunteer_id == volunteer.id)
    )
    if mine is not None:
        waiting = callouts.open_callouts(session, volunteer.id)
        if mine not in waiting and waiting:
            return None
        return replace(reply, ref=number, number=None)
    if reply.minutes is None and 0 < number <= MAX_ETA_MINUTES:
        return replace(reply, minutes=number, number=None)
    return replace(reply, ref=number, number=None)


def _answer(session: Session, *, volunteer: Volunteer, reply: Reply, message: Message) -> None:
    if volunteer.status is VolunteerStatus.opted_out:
        note = f"{reply.intent.value} from a volunteer who opted out (STOP)"
        _inbox(session, kind=InboxKind.late, volunteer=volunteer, message=message, note=note)
        respond(session, volunteer, MessageKind.no_open_callup, text.no_open_callup_text())
        return
    placed = _placed(session, volunteer, reply)
    if placed is None:
        _unclear(session, volunteer=volunteer, message=message)
        return
    reply = placed
    if reply.intent is ReplyIntent.YES and reply.ref is None:
        waiting = callouts.open_callouts(session, volunteer.id, (CalloutStatus.called,))
        bare = reply.minutes is None and not reply.enroute
        if not waiting and bare and welfare.pending_welfare(session, volunteer_id=volunteer.id):
            # A bare YES (or 👍) with no call-up waiting answers the welfare check it was asked.
            _ok(session, volunteer=volunteer, reply=replace(reply, intent=ReplyIntent.OK), message=message)
            return
        accepted = callouts.open_callouts(session, volunteer.id, (CalloutStatus.accepted,))
        if not waiting and len(accepted) == 1 and (reply.enroute or reply.minutes is not None):
            # "Yes, on my way" from someone already confirmed is a check-in, not a second YES.
            enroute = replace(reply, intent=ReplyIntent.ENROUTE if reply.enroute else ReplyIntent.ETA)
            _checkin(session, volunteer=volunteer, reply=enroute, message=message)
            return
        if not waiting and volunteer.available_asked_at is not None:
            # No call-up to answer: the YES answers the yearly "are you still available?" check.
            upkeep.answer_availability(session, volunteer=volunteer)
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
        _inbox(
            session,
            kind=InboxKind.ambiguous,
            volunteer=volunteer,
            message=message,
            note=f"{reply.intent.value} without a reference, with {len(refs)} call-ups open; asked which",
        )
        body = text.ask_reference_text(
            refs=refs, exercise=_exercise(session, target), emergency=_emergency(session, target)
        )
        respond(session, volunteer, MessageKind.ask_reference, body)
        return
    if target is None:
        _inbox(
            session,
            kind=InboxKind.late,
            volunteer=volunteer,
            message=message,
            note=f"{reply.intent.value} with no call-up to answer"
            + (f" (reference {reply.ref})" if reply.ref is not None else ""),
        )
        respond(session, volunteer, MessageKind.no_open_callup, text.no_open_callup_text())
        return
    # The incident is locked (inside accept/decline) before the reply row points at it: a write that
    # references the incident takes a key-share lock on it first, and many replies each holding that
    # and then asking for the incident's lock deadlock (one every deadlock_timeout under a burst).
    if reply.intent is ReplyIntent.YES:
        confirm_available(volunteer)  # a YES to a call-up answers the yearly check too
        counted = callouts.accept(session, callout=target, volunteer=volunteer)
        if counted:
            _deployed(target, reply)
        else:
            _inbox(
                session,
                kind=InboxKind.late,
                volunteer=volunteer,
                message=message,
                note="YES after the call-up was filled or closed; told not to go",
                callout=target,
            )
    else:
        was = target.status
        callouts.decline(session, callout=target, volunteer=volunteer)
        if was not in (CalloutStatus.called, CalloutStatus.accepted):
            _inbox(
                session,
                kind=InboxKind.late,
                volunteer=volunteer,
                message=message,
                note=f"NO after the call-up ended ({was.value})",
                callout=target,
            )
    link_inbound(message, callout_id=target.id, incident_id=target.incident_id)


def _deployed(callout: Callout, reply: Reply) -> None:
    """What a counted YES also said: an ETA, that they are on their way."""
    if reply.minutes is not None:
        callout.eta_minutes = reply.minutes
    if reply.enroute:
        callout.checkin = Checkin.enroute.value
        callout.checkin_at = datetime.now(UTC)


def _deployments(session: Session, volunteer_id: int) -> list[Callout]:
    """The volunteer's confirmed call-ups a check-in may be about: open incidents, or closed within a day."""
    since = datetime.now(UTC) - LATE_ANSWER_WINDOW
    return list(
        session.scalars(
            select(Callout)
            .join(Incident, Incident.id == Callout.incident_id)
            .where(
                Callout.volunteer_id == volunteer_id,
                Callout.status == CalloutStatus.accepted,
                (Incident.status == IncidentStatus.open) | (Incident.closed_at > since),
            )
            .order_by(Callout.answered_at.desc())
        )
    )


_CHECKINS = {
    ReplyIntent.ETA: Checkin.eta,
    ReplyIntent.ENROUTE: Checkin.enroute,
    ReplyIntent.ARRIVED: Checkin.arrived,
    ReplyIntent.LATE: Checkin.late,
    ReplyIntent.DONE: Checkin.done,
}


def _checkin(session: Session, *, volunteer: Volunteer, reply: Reply, message: Message) -> None:
    """ETA, ENROUTE, ARRIVED, LATE n or DONE on the volunteer's confirmed call-up, acknowledged by SMS."""
    checkin = _CHECKINS[reply.intent]
    deployed = _deployments(session, volunteer.id)
    if reply.number is not None and any(c.incident_id == reply.number for c in deployed):
        reply = replace(reply, ref=reply.number, number=None)  # "omw 14": the deployment's reference
    if reply.ref is not None:
        deployed = [c for c in deployed if c.incident_id == reply.ref]
    if not deployed and callouts.open_callouts(session, volunteer.id, (CalloutStatus.called,)):
        if checkin is Checkin.enroute:  # "on my way" to a call-up waiting for an answer says yes to it
            yes = replace(reply, intent=ReplyIntent.YES, enroute=True)
            _answer(session, volunteer=volunteer, reply=yes, message=message)
        else:  # "20 mins" to a call-up: probably a yes, so asked back rather than guessed
            _unclear(session, volunteer=volunteer, message=message)
        return
    if reply.number is not None:
        reply = replace(reply, minutes=reply.minutes or reply.number, number=None)
    if len(deployed) != 1:
        several = len(deployed) > 1
        _inbox(
            session,
            kind=InboxKind.ambiguous if several else InboxKind.checkin,
            volunteer=volunteer,
            message=message,
            note=f"{checkin.value} "
            + ("with several confirmed call-ups; asked which" if several else "with no confirmed call-up"),
        )
        if several:
            word = checkin.value if checkin is not Checkin.eta else "ETA"
            body = text.checkin_which_text(
                word=word,
                refs=[c.incident_id for c in deployed],
                exercise=_exercise(session, deployed),
                emergency=_emergency(session, deployed),
            )
            respond(session, volunteer, MessageKind.ask_reference, body)
        else:
            respond(session, volunteer, MessageKind.unknown_reply, text.no_deployment_text())
        return
    callout = deployed[0]
    incident = lock_incident_for(session, callout)
    now = datetime.now(UTC)
    if reply.minutes is not None and checkin in (Checkin.eta, Checkin.enroute):
        callout.eta_minutes = reply.minutes
    if checkin is not Checkin.eta:
        callout.checkin = checkin.value
        callout.checkin_at = now
    if checkin is Checkin.arrived:
        callout.arrived_at = callout.arrived_at or now
    if checkin is Checkin.done:  # arrived_at stays empty unless they said so: the record does not invent it
        callout.done_at = callout.done_at or now
    session.flush()
    if checkin is Checkin.done:
        award_milestones(session, volunteer_ids=[volunteer.id])
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="callout.checkin",
        entity_type="callout",
        entity_id=callout.id,
        detail={"checkin": checkin.value, "minutes": reply.minutes, "incident_id": incident.id},
    )
    link_inbound(message, callout_id=callout.id, incident_id=callout.incident_id)
    if checkin is Checkin.late:
        late = f"running {reply.minutes} min late" if reply.minutes else "running late"
        _inbox(
            session, kind=InboxKind.checkin, volunteer=volunteer, message=message, note=late, callout=callout
        )
    if checkin is Checkin.done and reply.safe:
        callout.welfare_asked_at = callout.welfare_asked_at or now
        welfare.answer_welfare(session, callouts=[callout], actor=f"volunteer:{volunteer.id}")
    if (
        checkin is Checkin.done
        and not reply.safe
        and welfare.ask_welfare(session, callout_ids=[callout.id], after_done=True)
    ):
        return  # the welfare question thanks them and signs them off in one text
    body = text.checkin_text(
        ref=incident.id,
        checkin=checkin,
        minutes=reply.minutes,
        exercise=incident.exercise,
        emergency=incident.emergency,
    )
    _respond_on(session, volunteer, MessageKind.checkin_ack, body, callout)


def lock_incident_for(session: Session, callout: Callout) -> Incident:
    """The call-up's incident, locked (as every change to its call-ups is), and the call-up re-read."""
    incident = lock_incident(session, callout.incident_id)
    session.refresh(callout)
    return incident


def _ok(session: Session, *, volunteer: Volunteer, reply: Reply, message: Message) -> None:
    """OK to a welfare check: every one pending is answered; otherwise it is read as unclear."""
    pending = welfare.pending_welfare(session, volunteer_id=volunteer.id)
    if reply.ref is not None:
        pending = [c for c in pending if c.incident_id == reply.ref]
    if not pending:
        _unclear(session, volunteer=volunteer, message=message)
        return
    actor = f"volunteer:{volunteer.id}"
    welfare.answer_welfare(session, callouts=pending, actor=actor)
    close_welfare_items(session, callout_ids=[c.id for c in pending], actor=actor)
    link_inbound(message, callout_id=pending[0].id, incident_id=pending[0].incident_id)
    incident = session.get_one(Incident, pending[0].incident_id)
    body = text.welfare_ok_text(ref=incident.id, exercise=incident.exercise, emergency=incident.emergency)
    _respond_on(session, volunteer, MessageKind.checkin_ack, body, pending[0])


def _respond_on(
    session: Session, volunteer: Volunteer, kind: MessageKind, body: str, callout: Callout
) -> None:
    if volunteer.phone is not None:
        queue_all(
            session,
            [
                outbound(
                    volunteer_id=volunteer.id,
                    to=volunteer.phone,
                    kind=kind,
                    body=body,
                    callout_id=callout.id,
                    incident_id=callout.incident_id,
                )
            ],
        )


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
