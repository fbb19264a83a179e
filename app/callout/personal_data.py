"""One person's data across every table: erasure that leaves nothing personal anywhere (releasing their
call-ups first), and the subject-access export of everything held on them.

It sits in the engine because erasure releases call-ups and both read the call-up, message and audit
tables; the reserve's own service stays below.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.audit.service import record
from app.callout import service as callouts
from app.callout.models import Callout
from app.check import service as checks
from app.incident.models import Incident, Need
from app.message.models import Message, Receipt
from app.signup.models import PhoneCode, Signup
from app.volunteer import service
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.phone import spellings
from app.volunteer.schemas import (
    ExportAuditEvent,
    ExportCallout,
    ExportMessage,
    ExportReceipt,
    VolunteerExport,
)

_Schema = TypeVar("_Schema", bound=BaseModel)
ERASED = "(erased)"
# A name shorter than this is too likely to be an ordinary word to be searched for in free text.
_MIN_NAME_NEEDLE = 4


def erase_volunteer(session: Session, *, volunteer_id: int, actor: str) -> None:
    """Erase a person everywhere: release their call-ups (refilling the needs), anonymise their messages,
    receipts, call-up distances and audit details, and empty their row, keeping a keyed fingerprint of
    the phone. The audit trail keeps that the erasure happened and by whom."""
    volunteer = service.get_volunteer(session, volunteer_id=volunteer_id)
    needles = _personal_strings(volunteer)
    released = callouts.release_volunteer(
        session, volunteer_id=volunteer_id, reason="erased", status=VolunteerStatus.erased
    )
    messages = _erase_messages(session, volunteer_id=volunteer_id, phones=needles.phones)
    _erase_signups(session, volunteer_id=volunteer_id, phone=volunteer.phone)
    checks.erase_checks(session, volunteer_id=volunteer_id)
    callout_ids = _erase_callouts(session, volunteer_id=volunteer_id, needles=needles.all)
    _erase_audit(
        session, volunteer_id=volunteer_id, callout_ids=callout_ids, message_ids=messages, needles=needles
    )
    service.erase_profile(session, volunteer=volunteer)
    record(
        session,
        actor=actor,
        action="volunteer.erased",
        entity_type="volunteer",
        entity_id=volunteer_id,
        detail={"callouts_released": released, "messages_anonymised": len(messages)},
    )


class _Needles:
    """The strings that identify a person in free text: their phone in its spellings, and their name."""

    def __init__(self, phone: str | None, name: str) -> None:
        self.phones = spellings(phone) if phone else []
        self.names = [name.strip()] if len(name.strip()) >= _MIN_NAME_NEEDLE else []
        self.all = self.phones + self.names


def _personal_strings(volunteer: Volunteer) -> _Needles:
    return _Needles(volunteer.phone, volunteer.name)


def _erase_messages(session: Session, *, volunteer_id: int, phones: Sequence[str]) -> list[int]:
    """Anonymise the person's messages in and out (and any from their number before we knew them):
    numbers, bodies, errors and provider SIDs, which would let the provider's logs name them; their
    receipts go. The rows stay, so delivery counts and incident history still add up."""
    mine = [Message.volunteer_id == volunteer_id]
    if phones:
        mine += [Message.from_number == phones[0], Message.to_number == phones[0]]
    rows = session.execute(select(Message.id, Message.provider_sid).where(or_(*mine))).all()
    ids = [i for i, _ in rows]
    sids = [sid for _, sid in rows if sid]
    if sids:
        session.execute(delete(Receipt).where(Receipt.provider_sid.in_(sids)))
    if ids:
        session.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(to_number="", from_number="", body=ERASED, error_message=None, provider_sid=None)
        )
    return ids


def _erase_signups(session: Session, *, volunteer_id: int, phone: str | None) -> None:
    """Delete sign-ups waiting on their number (each holds a name and a home) and empty the number from
    its one-time codes; the code rows stay only as keyed hashes, which name nobody."""
    mine = [Signup.volunteer_id == volunteer_id, *([Signup.phone == phone] if phone else [])]
    session.execute(delete(Signup).where(or_(*mine)))
    codes = [PhoneCode.volunteer_id == volunteer_id, *([PhoneCode.phone == phone] if phone else [])]
    session.execute(update(PhoneCode).where(or_(*codes)).values(phone=None))


def _erase_callouts(session: Session, *, volunteer_id: int, needles: Sequence[str]) -> list[int]:
    """Empty call-up distances (with the incident's place they locate the home) and personal reasons."""
    owned = list(session.scalars(select(Callout).where(Callout.volunteer_id == volunteer_id)))
    for callout in owned:
        callout.distance_km = None
        if callout.reason and any(n in callout.reason for n in needles):
            callout.reason = ERASED
    session.flush()
    return [c.id for c in owned]


def _erase_audit(
    session: Session,
    *,
    volunteer_id: int,
    callout_ids: Sequence[int],
    message_ids: Sequence[int],
    needles: _Needles,
) -> None:
    """Redact personal strings from audit details: every event about the person, and any other event
    whose detail mentions their phone. The events themselves stay (what happened, when, by whom)."""
    scope = [_about(volunteer_id, callout_ids, message_ids)]
    scope += [cast(AuditEvent.detail, Text).contains(p) for p in needles.phones]
    for event in session.scalars(select(AuditEvent).where(or_(*scope))):
        redacted = _redact(event.detail, needles.all)
        if redacted != event.detail:
            event.detail = redacted
    session.flush()


def _about(volunteer_id: int, callout_ids: Sequence[int], message_ids: Sequence[int]) -> Any:
    """Audit events about a person, their call-ups or their messages, or done by them by SMS."""
    return or_(
        (AuditEvent.entity_type == "volunteer") & (AuditEvent.entity_id == volunteer_id),
        (AuditEvent.entity_type == "callout") & AuditEvent.entity_id.in_(list(callout_ids)),
        (AuditEvent.entity_type == "message") & AuditEvent.entity_id.in_(list(message_ids)),
        AuditEvent.actor == f"volunteer:{volunteer_id}",
    )


def _redact(value: Any, needles: Sequence[str]) -> Any:
    """The value with every string that contains a needle replaced."""
    if isinstance(value, str):
        return ERASED if any(n in value for n in needles) else value
    if isinstance(value, dict):
        return {k: _redact(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, needles) for v in value]
    return value


def read_as(schema: type[_Schema], row: object, **given: Any) -> _Schema:
    """`schema` filled from the row's attributes of the same names; `given` supplies the others."""
    return schema.model_validate(
        {name: given[name] if name in given else getattr(row, name) for name in schema.model_fields}
    )


def export_volunteer(session: Session, *, volunteer_id: int) -> VolunteerExport:
    """Everything held on one person: profile, passport, availability, organisations, call-ups, messages
    in and out with their receipts, and the audit events about them (a subject-access request)."""
    volunteer = service.get_volunteer(session, volunteer_id=volunteer_id)
    profile = service.to_read(volunteer)
    callout_rows = session.execute(
        select(Callout, Incident.title, Need.skill_code)
        .join(Incident, Incident.id == Callout.incident_id)
        .join(Need, Need.id == Callout.need_id)
        .where(Callout.volunteer_id == volunteer_id)
        .order_by(Callout.id)
    ).all()
    messages = list(
        session.scalars(select(Message).where(Message.volunteer_id == volunteer_id).order_by(Message.id))
    )
    receipts: dict[str, list[ExportReceipt]] = {}
    sids = [m.provider_sid for m in messages if m.provider_sid]
    for receipt in session.scalars(
        select(Receipt).where(Receipt.provider_sid.in_(sids)).order_by(Receipt.id)
    ):
        receipts.setdefault(receipt.provider_sid, []).append(
            ExportReceipt(
                status=receipt.status, error_code=receipt.error_code, received_at=receipt.received_at
            )
        )
    callout_ids = [c.id for c, _, _ in callout_rows]
    mentions = [AuditEvent.detail.contains({"volunteers": [volunteer_id]})]
    mentions += [AuditEvent.detail.contains({"callouts": [cid]}) for cid in callout_ids]
    events = session.scalars(
        select(AuditEvent)
        .where(or_(_about(volunteer_id, callout_ids, [m.id for m in messages]), *mentions))
        .order_by(AuditEvent.id)
    )
    return VolunteerExport(
        exported_at=datetime.now(UTC),
        profile=profile,
        credentials=profile.skills,
        availability=profile.availability,
        unavailable=profile.unavailable,
        organisations=profile.organisations,
        callouts=[
            read_as(ExportCallout, c, incident_title=title, skill=skill) for c, title, skill in callout_rows
        ],
        messages=[
            read_as(ExportMessage, m, receipts=receipts.get(m.provider_sid or "", [])) for m in messages
        ],
        audit=[read_as(ExportAuditEvent, e) for e in events],
    )
