"""One-time SMS codes: six digits, valid ten minutes, five tries, kept only as a keyed hash.

One module for every code we send (a sign-up, a duplicate sign-up's update, LEAVE), so the rules are
the same wherever a person proves they hold a phone. A code is checked against a locked row, so two
guesses at once cannot both count as the fifth try.
"""

import enum
import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from alerts.text import verification_code_text
from app.db import among, insert_rows
from app.message.models import MessageKind
from app.message.service import outbound, queue_all
from app.settings import get_settings
from app.signup.models import CodePurpose, PhoneCode

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
# What a code is written with (`insert_rows`).
CODE_COLUMNS = (
    "phone",
    "purpose",
    "volunteer_id",
    "signup_id",
    "message_id",
    "code_hash",
    "expires_at",
    "attempts",
)


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


@dataclass(frozen=True)
class CodeRequest:
    """One code to send: to which phone, to prove what, for which volunteer or sign-up."""

    phone: str
    purpose: CodePurpose
    volunteer_id: int | None = None
    signup_id: int | None = None


def send_many(
    session: Session, requests: Sequence[CodeRequest], *, text: Callable[[str, int], str] | None = None
) -> list[PhoneCode]:
    """Issue codes and queue the SMS that carry them, through the same rate-limited path as call-ups,
    with one INSERT per table however many (a surge's batch); `text(code, minutes)` words each SMS (by
    default: the code, what it is for, how long it lasts). The code itself lives only in its SMS. The
    rows returned are the values written (`insert_rows`), outside the session."""
    minutes = int(CODE_TTL.total_seconds() // 60)
    pairs = [(request, new_code()) for request in requests]
    messages = [
        outbound(
            volunteer_id=request.volunteer_id,
            to=request.phone,
            kind=MessageKind.leave_code
            if request.purpose is CodePurpose.leave
            else MessageKind.verification_code,
            body=(
                text(code, minutes)
                if text is not None
                else verification_code_text(code=code, purpose=request.purpose.value, minutes=minutes)
            ),
        )
        for request, code in pairs
    ]
    queue_all(session, messages)
    expires_at = datetime.now(UTC) + CODE_TTL
    rows = [
        PhoneCode(
            phone=request.phone,
            purpose=request.purpose,
            volunteer_id=request.volunteer_id,
            signup_id=request.signup_id,
            message_id=message.id,
            code_hash=code_hash(request.phone, code),
            expires_at=expires_at,
            attempts=0,
        )
        for (request, code), message in zip(pairs, messages, strict=True)
    ]
    written = [{column: getattr(row, column) for column in CODE_COLUMNS} for row in rows]
    for row, code_id in zip(rows, insert_rows(session, PhoneCode, written), strict=True):
        row.id = code_id
    return rows


def send(
    session: Session, request: CodeRequest, *, text: Callable[[str, int], str] | None = None
) -> PhoneCode:
    """One code (LEAVE, a new code for a sign-up): `send_many` of one."""
    return send_many(session, [request], text=text)[0]


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
    return sent_counts(session, phones=[phone], since=since).get(phone, 0)


def sent_counts(session: Session, *, phones: Sequence[str], since: timedelta) -> dict[str, int]:
    """`sent_since` for many phones in one query (those with none are left out)."""
    rows = session.execute(
        select(PhoneCode.phone, func.count())
        .where(among(PhoneCode.phone, phones), PhoneCode.created_at > func.now() - since)
        .group_by(PhoneCode.phone)
    ).all()
    return {str(phone): int(n) for phone, n in rows}
