"""What a volunteer can do for themselves by SMS (PAUSE, BACK, STATUS, PASSPORT, LEAVE, EMERGENCIES ONLY,
ALL ASKS), and a stranger's text.

Each command is answered at once. A pause is a status (`paused`, with `paused_until` or none for "until
BACK"), so selection, which calls only active people, never calls a paused one; a pause that reaches its
end is ended by the reconciler (`resume_due_pauses`). PAUSE releases the volunteer from call-ups they
are waiting on or confirmed for, through the engine's one way out, so each need is filled by someone
else. A number paused because it failed for good is not resumed by the clock, nor by BACK: its owner
must give us a working number first. LEAVE is not acted on by one unconfirmed text: it is answered with
a one-time code, and LEAVE with that code erases the volunteer everywhere (the subject-erasure path),
then a last text to the number the erasure captured says it is done. PASSPORT is answered with a link
that shows their passport once, within minutes (app/badge). EMERGENCIES ONLY keeps a volunteer out of
organisations' asks that are not emergencies (selection skips them), ALL ASKS lets them in again. A
stranger's text (JOIN too) goes to the inbox and is answered with the link to /join.
"""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alerts import text
from alerts.replies import MAX_PAUSE_DAYS, Reply
from app.audit.service import record
from app.badge import service as badges
from app.callout import personal_data
from app.callout import service as callouts
from app.callout.models import CalloutStatus
from app.inbox.models import InboxKind
from app.inbox.service import add_item
from app.message.models import Message, MessageKind
from app.message.service import outbound, queue_all, respond
from app.settings import get_settings
from app.signup import codes
from app.signup.models import CodePurpose
from app.volunteer.models import Credential, CredentialStatus, Volunteer, VolunteerStatus
from app.volunteer.service import UK, confirm_available

JOIN_LINK_EVERY = timedelta(days=1)  # a stranger's texts get the sign-up link at most this often


def pause_end(reply: Reply, *, now: datetime) -> datetime | None:
    """When a PAUSE ends: N days from now, or the start (UK time) of the next such day within a year;
    None when the day has no such date within a year (29 Feb) or the pause has no end (until BACK)."""
    if reply.days is not None:
        return now + timedelta(days=reply.days)
    if reply.until is None:
        return None
    day, month = reply.until
    today = now.astimezone(UK).date()
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if today < candidate <= today + timedelta(days=MAX_PAUSE_DAYS):
            return datetime.combine(candidate, time(0), tzinfo=UK).astimezone(UTC)
    return None


def _answer(session: Session, volunteer: Volunteer, body: str) -> None:
    respond(session, volunteer, MessageKind.self_service, body)


def _open_refs(session: Session, volunteer_id: int) -> list[tuple[int, CalloutStatus]]:
    """(incident ref, status) of the call-ups that hold a volunteer, by ref."""
    return sorted((c.incident_id, c.status) for c in callouts.open_callouts(session, volunteer_id))


def _day_text(moment: datetime) -> str:
    local = moment.astimezone(UK)
    return f"{local:%a} {local.day} {local:%b}"


def pause(session: Session, *, volunteer: Volunteer, reply: Reply) -> bool:
    """PAUSE [7D | 2W | UNTIL 24 DEC]: no call-ups until then, released from open ones, confirmed.

    False, doing nothing, when it cannot be a pause: a day with no date within a year (29 Feb), or a
    volunteer who cannot be paused (opted out); the caller keeps it for a person as unreadable.
    """
    if volunteer.status not in (VolunteerStatus.active, VolunteerStatus.paused, VolunteerStatus.inactive):
        return False
    until = pause_end(reply, now=datetime.now(UTC))
    if until is None and reply.until is not None:
        return False
    held = [ref for ref, _ in _open_refs(session, volunteer.id)]
    callouts.release_volunteer(
        session, volunteer_id=volunteer.id, reason="paused by the volunteer", status=VolunteerStatus.paused
    )
    volunteer.paused_until = until
    confirm_available(volunteer)  # a PAUSE answers the yearly check: they are there, only not now
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="volunteer.paused",
        entity_type="volunteer",
        entity_id=volunteer.id,
        detail={"until": until.isoformat() if until else None, "released": held},
    )
    back_on = _day_text(until) if until else None
    _answer(session, volunteer, text.paused_text(back_on=back_on, released=held))
    return True


def back(session: Session, *, volunteer: Volunteer) -> None:
    """BACK: a paused or inactive volunteer is active again (not one whose number failed for good)."""
    returning = volunteer.status in (VolunteerStatus.paused, VolunteerStatus.inactive)
    if not returning or volunteer.phone_failed_at is not None:
        _answer(session, volunteer, text.not_paused_text() if not returning else text.unknown_reply_text())
        return
    volunteer.status = VolunteerStatus.active
    volunteer.paused_until = None
    confirm_available(volunteer)
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="volunteer.back",
        entity_type="volunteer",
        entity_id=volunteer.id,
    )
    _answer(session, volunteer, text.back_text())


def emergencies_only(session: Session, *, volunteer: Volunteer, only: bool) -> None:
    """EMERGENCIES ONLY (`only`) or ALL ASKS: whether organisations' non-emergency asks call them,
    confirmed either way (a call-up already sent stands: they answer it as they like)."""
    volunteer.emergencies_only = only
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="volunteer.emergencies_only" if only else "volunteer.all_asks",
        entity_type="volunteer",
        entity_id=volunteer.id,
        detail={"emergencies_only": only},
    )
    _answer(session, volunteer, text.emergencies_only_text() if only else text.all_asks_text())


# How STATUS describes a credential: its expiry in words (the SQL validity), and a status other than verified.
VALIDITY_WORDS = {"in_date": "expires", "expiring": "expires soon,", "expired": "expired"}
STATUS_NOTES = {CredentialStatus.pending: "not yet verified", CredentialStatus.rejected: "not verified"}


def status(session: Session, *, volunteer: Volunteer) -> None:
    """STATUS: active or paused (until when), skills with expiry dates, open call-ups."""
    state = volunteer.status.value.replace("_", " ")
    if volunteer.status is VolunteerStatus.paused:
        state = f"paused until {_day_text(volunteer.paused_until)}" if volunteer.paused_until else "paused"
    if volunteer.emergencies_only:
        state += ", for emergencies only (ALL ASKS for other volunteering)"
    skills = []
    for code, expires, validity, checked in session.execute(
        select(Credential.skill_code, Credential.expires_on, Credential.validity, Credential.status)
        .where(Credential.volunteer_id == volunteer.id)
        .order_by(Credential.skill_code)
    ):
        notes = [STATUS_NOTES[checked]] if checked in STATUS_NOTES else []
        if expires is not None:
            notes.append(f"{VALIDITY_WORDS[validity]} {expires.day} {expires:%b %Y}")
        skills.append(f"{code} ({'; '.join(notes)})" if notes else code)
    open_callups = [
        f"{ref} {'confirmed' if state_ is CalloutStatus.accepted else 'waiting for your answer'}"
        for ref, state_ in _open_refs(session, volunteer.id)
    ]
    _answer(session, volunteer, text.status_text(state=state, skills=skills, callups=open_callups))


def passport(session: Session, *, volunteer: Volunteer) -> None:
    """PASSPORT: a link to their passport, shown once within LINK_TTL; a few an hour at most."""
    sent = badges.links_sent_since(session, volunteer_id=volunteer.id, since=timedelta(hours=1))
    if sent >= badges.LINKS_PER_HOUR:
        _answer(session, volunteer, text.passport_links_used_up_text())
        return
    token = badges.create_link(session, volunteer_id=volunteer.id)
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="volunteer.passport_link_sent",
        entity_type="volunteer",
        entity_id=volunteer.id,
    )
    minutes = int(badges.LINK_TTL.total_seconds() // 60)
    _answer(session, volunteer, text.passport_link_text(url=badges.link_url(token), minutes=minutes))


LEAVE_CODES_PER_HOUR = 3  # as for sign-ups: a spoofed sender cannot make us text a phone endlessly


def leave(session: Session, *, volunteer: Volunteer, reply: Reply) -> None:
    """LEAVE: answered with a code; LEAVE and that code erases them as the subject-erasure path does,
    then a last text tells them it is done."""
    if reply.code is None:
        _send_leave_code(session, volunteer=volunteer)
        return
    row = codes.latest(session, purpose=CodePurpose.leave, volunteer_id=volunteer.id)
    outcome = codes.check(row, reply.code) if row is not None else codes.CodeCheck.expired
    if outcome is codes.CodeCheck.wrong and row is not None:
        _answer(session, volunteer, text.leave_code_wrong_text(tries_left=codes.tries_left(row)))
        return
    if outcome is not codes.CodeCheck.ok:
        _answer(session, volunteer, text.leave_code_dead_text())
        return
    phone = volunteer.phone
    personal_data.erase_volunteer(session, volunteer_id=volunteer.id, actor=f"volunteer:{volunteer.id}")
    if phone is not None:
        # To the number the erasure just emptied: the sending path empties it again once it is sent.
        last = outbound(volunteer_id=volunteer.id, to=phone, kind=MessageKind.left, body=text.left_text())
        queue_all(session, [last])


def _send_leave_code(session: Session, *, volunteer: Volunteer) -> None:
    phone = volunteer.phone or ""
    if codes.sent_since(session, phone=phone, since=timedelta(hours=1)) >= LEAVE_CODES_PER_HOUR:
        _answer(session, volunteer, text.leave_codes_used_up_text())
        return
    codes.send(
        session,
        codes.CodeRequest(phone=phone, purpose=CodePurpose.leave, volunteer_id=volunteer.id),
        text=lambda code, minutes: text.leave_code_text(code=code, minutes=minutes),
    )
    record(
        session,
        actor=f"volunteer:{volunteer.id}",
        action="volunteer.asked_to_leave",
        entity_type="volunteer",
        entity_id=volunteer.id,
    )


def already_joined(session: Session, *, volunteer: Volunteer) -> None:
    """JOIN from someone already on the reserve."""
    _answer(session, volunteer, text.already_joined_text())


def stranger(session: Session, *, message: Message) -> None:
    """A text from a phone we do not know (JOIN, or a volunteer with a new phone): it goes to the inbox
    for a person, and is answered at most once a day per number, with the sign-up link when one is set."""
    record(session, actor="sms", action="sms.unknown_sender", entity_type="message", entity_id=message.id)
    add_item(
        session,
        kind=InboxKind.unknown_sender,
        volunteer_id=None,
        message_id=message.id,
        note="a text from a number not on the reserve",
    )
    recent = session.scalar(
        select(Message.id)
        .where(
            Message.to_number == message.from_number,
            Message.kind == MessageKind.join_link,
            Message.created_at > datetime.now(UTC) - JOIN_LINK_EVERY,
        )
        .limit(1)
    )
    if recent is None and message.from_number:
        settings = get_settings()
        body = text.join_link_text(url=settings.signup_url or f"{settings.public_base_url}/join")
        link = outbound(volunteer_id=None, to=message.from_number, kind=MessageKind.join_link, body=body)
        queue_all(session, [link])


def resume_due_pauses(session: Session) -> int:
    """End the pauses whose end has come (not a failed number's): active again, and told so."""
    resumed = session.execute(
        update(Volunteer)
        .where(
            Volunteer.status == VolunteerStatus.paused,
            Volunteer.paused_until.is_not(None),
            Volunteer.paused_until <= datetime.now(UTC),
            Volunteer.phone_failed_at.is_(None),
        )
        .values(status=VolunteerStatus.active, paused_until=None)
        .returning(Volunteer.id, Volunteer.phone)
    ).all()
    messages = [
        outbound(volunteer_id=i, to=phone, kind=MessageKind.self_service, body=text.back_text())
        for i, phone in resumed
        if phone is not None
    ]
    if messages:
        queue_all(session, messages)
    for volunteer_id, _ in resumed:
        record(
            session,
            actor="system",
            action="volunteer.pause_ended",
            entity_type="volunteer",
            entity_id=volunteer_id,
        )
    return len(resumed)
