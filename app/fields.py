"""Constrained types shared by every schema, so bad input is a 422 at the edge, never a 500.

Each type says what the database or the domain can hold: PostgreSQL integers are 32-bit and its text
cannot contain NUL; an instant without a UTC offset is ambiguous, and Python dates end in year 9999.
"""

from datetime import UTC, datetime, time
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema

INT4_MAX = 2**31 - 1
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def refuse_nul(value: str) -> str:
    """Text the database can store: PostgreSQL text cannot hold the NUL character."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


def utc_instant(value: datetime) -> datetime:
    """An instant with an explicit offset, in a sane range, as UTC (mixed zones then compare safely)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a UTC offset, e.g. 2026-03-01T09:30:00Z or 2026-03-01T09:30:00+01:00")
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range") from exc
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
    return utc


def wall_clock(value: time) -> time:
    """A time of day on the UK clock, which has no fixed offset: one given with an offset is refused."""
    if value.tzinfo is not None:
        raise ValueError("is a UK local time of day (HH:MM or HH:MM:SS) and takes no offset")
    return value


def says_why(value: str) -> str:
    """A reason someone will read (a volunteer told why, an auditor): not blank, without stray spaces."""
    if not value.strip():
        raise ValueError("must say why")
    return value.strip()


PlainText = Annotated[str, AfterValidator(refuse_nul)]
# Why a decision was made (a credential rejected, a check withdrawn): said, and short enough for an SMS.
Reason = Annotated[
    str, Field(min_length=1, max_length=300), AfterValidator(refuse_nul), AfterValidator(says_why)
]
Instant = Annotated[datetime, AfterValidator(utc_instant)]
# JSON Schema's `time` format requires an offset (RFC 3339), which a wall-clock time does not have.
LocalTime = Annotated[
    time,
    AfterValidator(wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
            "description": "UK local time of day, HH:MM or HH:MM:SS",
        }
    ),
]
