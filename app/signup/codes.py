"""One-time SMS codes: six digits, valid ten minutes, five tries, kept only as a keyed hash.

One module for every code we send (a sign-up, a duplicate sign-up's update, LEAVE), so the rules are
the same wherever a person proves they hold a phone. A code is checked against a locked row, so two
guesses at once cannot both count as the fifth try.
"""

import enum
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from alerts.text import verification_code_text
from app.message.models import MessageKind
from app.message.service import outbound, queue_all
from app.settings import get_settings
from app.signup.models import CodePurpose, PhoneCode

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5


class CodeCheck(enum.StrEnum):
    """The outcome of a guess, each with its own message for the person."""

    ok = "ok"
    wrong = "wrong"  # tries are left
    expired = "expired"
    used = "used"
    too_many = "too_many"  # the fifth wrong guess, or a guess after it


def new_code() -> str:
    """Six random digits, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(phone: str, code: str) -> str:
    """The keyed hash we keep: a million codes are quick to try against a bare hash, not against this."""
    key = f"phone-code:{get_settings().erasure_key}".encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def issue(
    session: Session,
    *,
    phone: str,
    purpose: CodePurpose,
    volunteer_id: int | None = None,
    signup_id: int | None = None,
) -> tuple[PhoneCode, str]:
    """A new code row (flushed) and the code itself, which only the SMS carries."""
    code = new_code()
    row = PhoneCode(
        phone=phone,
        purpose=purpose,
        volunteer_id=volunteer_id,
        signup_id=signup_id,
        code_hash=code_hash(phone, code),
        expires_at=datetime.now(UTC) + CODE_TTL,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return row, code


def send(
    session: Session,
    *,
    phone: str,
    purpose: CodePurpose,
    volunteer_id: int | None = None,
    signup_id: int | None = None,
    text: Callable[[str, int], str] | None = None,
) -> PhoneCode:
    """Issue a code and queue the SMS that carries it, through the same rate-limited path as call-ups;
    `text(code, minutes)` words it (by default: the code, what it is for, how long it lasts)."""
    row, code = issue(session, phone=phone, purpose=purpose, volunteer_id=volunteer_id, signup_id=signup_id)
    minutes = int(CODE_TTL.total_seconds() // 60)
    if text is None:
        body = verification_code_text(code=code, purpose=purpose.value, minutes=minutes)
    else:
        body = text(code, minutes)
    message = outbound(volunteer_id=volunteer_id, to=phone, kind=MessageKind.verification_code, body=body)
    queue_all(session, [message])
    row.message_id = message.id
    return row


def restart_clock(session: Session, *, message_id: int) -> None:
    """The provider accepted the SMS carrying a code: its ten minutes start now (a surge's queue must
    not use them up before the person has the code)."""
    session.execute(
        update(PhoneCode)
        .where(PhoneCode.message_id == message_id, PhoneCode.used_at.is_(None))
        .values(expires_at=func.now() + CODE_TTL)
    )


def check(row: PhoneCode, code: str, *, now: datetime | None = None) -> CodeCheck:
    """Count a guess against a row locked by the caller (SELECT ... FOR UPDATE); marks it used on success."""
    moment = now or datetime.now(UTC)
    if row.used_at is not None:
        return CodeCheck.used
    if row.attempts >= MAX_TRIES:
        return CodeCheck.too_many
    if row.expires_at <= moment:
        return CodeCheck.expired
    row.attempts += 1
    if row.phone is not None and hmac.compare_digest(row.code_hash, code_hash(row.phone, code.strip())):
        row.used_at = moment
        return CodeCheck.ok
    return CodeCheck.too_many if row.attempts >= MAX_TRIES else CodeCheck.wrong


def tries_left(row: PhoneCode) -> int:
    """How many guesses this code still allows."""
    return max(0, MAX_TRIES - row.attempts)


def latest(
    session: Session, *, purpose: CodePurpose, signup_id: int | None = None, volunteer_id: int | None = None
) -> PhoneCode | None:
    """The newest code of this purpose for a sign-up or a volunteer, locked for checking."""
    query = select(PhoneCode).where(PhoneCode.purpose == purpose)
    if signup_id is not None:
        query = query.where(PhoneCode.signup_id == signup_id)
    if volunteer_id is not None:
        query = query.where(PhoneCode.volunteer_id == volunteer_id)
    return session.scalar(query.order_by(PhoneCode.id.desc()).limit(1).with_for_update())


def sent_since(session: Session, *, phone: str, since: timedelta) -> int:
    """How many codes went to this phone lately: the per-number limit counts from the database, which a
    Redis wipe cannot reset."""
    return (
        session.scalar(
            select(func.count())
            .select_from(PhoneCode)
            .where(PhoneCode.phone == phone, PhoneCode.created_at > func.now() - since)
        )
        or 0
    )
