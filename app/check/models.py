"""Disclosure and barring checks: one row per check an organisation recorded for a volunteer.

A check is not a skill: it has a level the law defines (basic < standard < enhanced < enhanced with the
barred lists, in that order in the PostgreSQL enum so `>=` compares levels in SQL) and, from enhanced
up, the workforce it was for (children, adults or both). A DBS certificate has no legal expiry, so a
check is due for renewal a configured number of years (`Settings.check_renewal_years`) after the later
of its certificate date and the last time the DBS update service confirmed it; a PVG membership is due
on its renewal date. Its state (current, expiring within EXPIRING_DAYS, lapsed) is worked out in SQL on
the database's clock, like a credential's validity.
"""

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.db import Base
from app.volunteer.models import EXPIRING_DAYS, uk_today


class CheckScheme(enum.StrEnum):
    """Who ran the check: the Disclosure and Barring Service (England and Wales; AccessNI's are
    recorded as the same levels) or Disclosure Scotland's Protecting Vulnerable Groups scheme."""

    dbs = "dbs"
    pvg = "pvg"


class CheckLevel(enum.StrEnum):
    """The level of disclosure, lowest first: the PostgreSQL enum keeps this order for `>=`."""

    basic = "basic"
    standard = "standard"
    enhanced = "enhanced"
    enhanced_barred = "enhanced_barred"


# The levels that are for a workforce (an enhanced check is asked for work with children or adults).
WORKFORCE_LEVELS = frozenset({CheckLevel.enhanced, CheckLevel.enhanced_barred})


class Workforce(enum.StrEnum):
    """Whom an enhanced check is for."""

    children = "children"
    adults = "adults"
    both = "both"


class CheckState(enum.StrEnum):
    """Where a check stands on the renewal clock."""

    current = "current"
    expiring = "expiring"
    lapsed = "lapsed"


LEVEL_TYPE = Enum(CheckLevel, name="check_level")
WORKFORCE_TYPE = Enum(Workforce, name="check_workforce")


class BackgroundCheck(Base):
    """One disclosure or PVG membership of a volunteer, as an organisation saw it.

    The certificate number is shown only to administrators and the organisation that recorded it; a
    withdrawn check (recorded in error, or a disclosure that changed) stays, with why, and counts nowhere.
    Erasing the person deletes their checks.
    """

    __tablename__ = "background_checks"
    __table_args__ = (
        CheckConstraint(
            "(level IN ('enhanced', 'enhanced_barred')) = (workforce IS NOT NULL)",
            name="workforce_for_enhanced",
        ),
        CheckConstraint("(scheme = 'pvg') = (pvg_renewal_on IS NOT NULL)", name="pvg_renewal"),
        CheckConstraint("scheme = 'dbs' OR update_service_checked_on IS NULL", name="update_service_dbs"),
        CheckConstraint("scheme = 'dbs' OR level = 'enhanced_barred'", name="pvg_level"),
        CheckConstraint(
            "update_service_checked_on IS NULL OR update_service_checked_on >= certificate_date",
            name="update_service_after_certificate",
        ),
        CheckConstraint("(withdrawn_at IS NULL) = (withdrawn_reason IS NULL)", name="withdrawn_with_reason"),
        # Selection asks, for each candidate, whether they hold a check not withdrawn.
        Index(
            "ix_background_checks_volunteer_live",
            "volunteer_id",
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[CheckScheme] = mapped_column(Enum(CheckScheme, name="check_scheme"))
    level: Mapped[CheckLevel] = mapped_column(LEVEL_TYPE)
    workforce: Mapped[Workforce | None] = mapped_column(WORKFORCE_TYPE)
    certificate_number: Mapped[str] = mapped_column(String(40))
    certificate_date: Mapped[date] = mapped_column(Date)
    # The last time the DBS update service said the certificate is still current (DBS only).
    update_service_checked_on: Mapped[date | None] = mapped_column(Date)
    # When the PVG scheme membership must be renewed (PVG only).
    pvg_renewal_on: Mapped[date | None] = mapped_column(Date)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class CheckNeed:
    """The check a need asks for: at least this level, and from enhanced up, for this workforce."""

    level: CheckLevel
    workforce: Workforce | None = None


def renew_by(renewal_years: int) -> ColumnElement[date]:
    """The last day a check counts: a PVG membership's renewal date; for a DBS check, `renewal_years`
    after the later of its certificate date and its last update-service check (GREATEST skips NULL)."""
    confirmed = func.greatest(BackgroundCheck.certificate_date, BackgroundCheck.update_service_checked_on)
    return case(
        (BackgroundCheck.scheme == CheckScheme.pvg, BackgroundCheck.pvg_renewal_on),
        else_=cast(confirmed + func.make_interval(renewal_years), Date),
    )


def state_of(renewal_years: int) -> ColumnElement[str]:
    """A check's state in SQL: lapsed once its renewal day has passed, expiring within EXPIRING_DAYS
    days of it (the day included), current before that; the same clock as a credential's validity."""
    today = uk_today()
    due = renew_by(renewal_years)
    return case(
        (due < today, literal(CheckState.lapsed.value)),
        (due <= today + EXPIRING_DAYS, literal(CheckState.expiring.value)),
        else_=literal(CheckState.current.value),
    )


def _covers(
    volunteer_id: Any, need: CheckNeed, side: Workforce | None, *, on: date, renewal_years: int
) -> ColumnElement[bool]:
    """A check of this person, not withdrawn and not lapsed on `on`, at the need's level or above and
    (for one side of the workforce) for that side or both."""
    rules = [
        BackgroundCheck.volunteer_id == volunteer_id,
        BackgroundCheck.withdrawn_at.is_(None),
        BackgroundCheck.level >= need.level,
        renew_by(renewal_years) >= on,
    ]
    if side is not None:
        rules.append(BackgroundCheck.workforce.in_([side, Workforce.both]))
    return exists().where(*rules)


def meets(volunteer_id: Any, need: CheckNeed, *, on: date, renewal_years: int) -> ColumnElement[bool]:
    """Whether the person holds the check a need asks for on the day `on`: for both workforces, one
    check for both or a children's check and an adults' check (each at the level)."""
    if need.workforce is None:
        return _covers(volunteer_id, need, None, on=on, renewal_years=renewal_years)
    sides = [Workforce.children, Workforce.adults] if need.workforce is Workforce.both else [need.workforce]
    return and_(*[_covers(volunteer_id, need, s, on=on, renewal_years=renewal_years) for s in sides])
