"""Volunteer, credential and availability tables."""

import enum
from datetime import date, datetime, time
from typing import Any

from geoalchemy2 import Geography, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    case,
    cast,
    false,
    func,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.db import Base, TimestampMixin
from app.organisation.models import Organisation


class VolunteerStatus(enum.StrEnum):
    """Whether a volunteer may be called.

    paused: by the volunteer (PAUSE, until `paused_until` or BACK) or because their number failed for
    good. inactive: never answered the yearly "are you still available?" check; kept, not deleted, and
    back to active when they answer.
    """

    active = "active"
    paused = "paused"
    opted_out = "opted_out"
    erased = "erased"
    inactive = "inactive"


class VolunteerSource(enum.StrEnum):
    """How a volunteer came into the reserve."""

    admin = "admin"  # typed in or imported by an administrator
    signup = "signup"  # joined themselves at /join with a verified phone


volunteer_organisations = Table(
    "volunteer_organisations",
    Base.metadata,
    Column("volunteer_id", ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class Volunteer(TimestampMixin, Base):
    """A person in the reserve. Phone and home are personal data."""

    __tablename__ = "volunteers"
    __table_args__ = (
        Index("ix_volunteers_location", "location", postgresql_using="gist"),
        # The yearly availability check reads only the people it may concern (app/upkeep/service.py):
        # active and not yet asked, by when they last confirmed (or joined); asked and not answered.
        Index(
            "ix_volunteers_availability_due",
            "available_confirmed_at",
            "created_at",
            postgresql_where=text("status = 'active' AND available_asked_at IS NULL"),
        ),
        Index(
            "ix_volunteers_availability_asked",
            "available_asked_at",
            postgresql_where=text("status = 'active' AND available_asked_at IS NOT NULL"),
        ),
        CheckConstraint("max_travel_km IS NULL OR max_travel_km > 0", name="max_travel_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    location: Mapped[WKBElement | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    max_travel_km: Mapped[float | None] = mapped_column(Float)
    status: Mapped[VolunteerStatus] = mapped_column(
        Enum(VolunteerStatus, name="volunteer_status"), default=VolunteerStatus.active, index=True
    )
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list)
    last_called_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[VolunteerSource] = mapped_column(
        Enum(VolunteerSource, name="volunteer_source"),
        default=VolunteerSource.admin,
        server_default=VolunteerSource.admin.value,
    )
    # When the volunteer proved they hold this phone with a code (sign-up); None for admin-entered people.
    phone_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A PAUSE with an end: no call-ups until then (None with status paused: until BACK).
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The yearly "are you still available?" check: when they last said yes (or joined), and when we asked.
    available_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    available_asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last credential-expiry reminder (at most one a week per person).
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A permanent delivery failure (unreachable, not a mobile): shown to administrators.
    phone_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # EMERGENCIES ONLY by SMS: never asked for an organisation's non-emergency work (ALL ASKS undoes it).
    emergencies_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    phone_failure_code: Mapped[int | None] = mapped_column(Integer)

    credentials: Mapped[list["Credential"]] = relationship(
        back_populates="volunteer", cascade="all, delete-orphan", lazy="raise", order_by="Credential.id"
    )
    windows: Mapped[list["AvailabilityWindow"]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="AvailabilityWindow.id"
    )
    unavailable: Mapped[list["UnavailablePeriod"]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="UnavailablePeriod.id"
    )
    organisations: Mapped[list[Organisation]] = relationship(secondary=volunteer_organisations, lazy="raise")


class CredentialStatus(enum.StrEnum):
    """Whether an organisation has checked a passport entry (app/passport).

    Every claim starts pending: one made at /join, and one an administrator or coordinator enters or
    imports. For a skill that needs verification (Skill.needs_verification) only a verified one counts.
    """

    pending = "pending"
    verified = "verified"
    rejected = "rejected"


# How far ahead a credential's expiry is shown as coming ("expiring"), as the first expiry reminder.
EXPIRING_DAYS = 60


def uk_today() -> ColumnElement[date]:
    """Today's date in the UK on the database's clock: credentials expire at the end of a UK day."""
    return cast(func.timezone("Europe/London", func.now()), Date)


def validity_of(expires_on: Any) -> ColumnElement[str]:
    """A credential's time state in SQL: in_date, expiring (within EXPIRING_DAYS days, the expiry day
    included) or expired (its day has passed); one without an expiry is in date."""
    today = uk_today()
    return case(
        (expires_on.is_(None), literal("in_date")),
        (expires_on < today, literal("expired")),
        (expires_on <= today + EXPIRING_DAYS, literal("expiring")),
        else_=literal("in_date"),
    )


class Credential(Base):
    """One entry of the volunteer passport; an expired credential does not count, and for a skill that
    needs verification neither does one no organisation has verified."""

    __tablename__ = "credentials"
    __table_args__ = (
        Index("ix_credentials_skill_expiry", "skill_code", "expires_on"),
        # Expiry reminders: each threshold's due credentials are one range of (last reminder, expiry).
        Index(
            "ix_credentials_reminder_due",
            "expiry_reminded_days",
            "expires_on",
            postgresql_where=text(
                "expires_on IS NOT NULL AND (expiry_reminded_days IS NULL OR expiry_reminded_days > 7)"
            ),
        ),
        # btree_gist lets one GIST index serve "this skill, nearest first": selection walks only the
        # homes of people holding the skill instead of every home in the radius.
        Index("ix_credentials_skill_location", "skill_code", "location", postgresql_using="gist"),
        # The verifiers' queue: pending claims, oldest first (app/passport/service.py).
        Index("ix_credentials_pending", "status_at", postgresql_where=text("status = 'pending'")),
        UniqueConstraint("volunteer_id", "skill_code", name="uq_credentials_volunteer_skill"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    skill_code: Mapped[str] = mapped_column(ForeignKey("skills.code"))
    level: Mapped[int] = mapped_column(SmallInteger, default=1)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    status: Mapped[CredentialStatus] = mapped_column(
        Enum(CredentialStatus, name="credential_status"),
        default=CredentialStatus.pending,
        server_default=CredentialStatus.pending.value,
    )
    # When the status last changed: for a pending claim, when it was made (the verifiers' queue order).
    status_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The last verification: when, and who (the verifier token's actor); the evidence is in app/passport.
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str | None] = mapped_column(String(120))
    expires_on: Mapped[date | None] = mapped_column(Date)
    # in_date, expiring or expired, on the database's clock (validity_of), loaded with every credential.
    validity: Mapped[str] = column_property(validity_of(expires_on))
    # The nearest expiry reminder already sent (60, 30 or 7 days before); cleared when expires_on changes.
    expiry_reminded_days: Mapped[int | None] = mapped_column(SmallInteger)
    # A copy of the holder's home, kept by database triggers (migration 0004), never written by the app.
    location: Mapped[WKBElement | None] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False), server_default=None
    )

    volunteer: Mapped[Volunteer] = relationship(back_populates="credentials", lazy="raise")
    issuer: Mapped[Organisation | None] = relationship(lazy="raise")


class AvailabilityWindow(Base):
    """A recurring weekly window (UK local time) when the volunteer can be called.

    A volunteer with no windows at all is available at any time.
    """

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts < ends", name="window_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class UnavailablePeriod(Base):
    """A one-off period (holiday, illness) when the volunteer must not be called."""

    __tablename__ = "unavailable_periods"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")


class ErasedPhone(Base):
    """The keyed fingerprint of an erased volunteer's phone: no number, only a way to recognise it.

    Creating or importing a volunteer with this phone is refused unless they give fresh consent.
    """

    __tablename__ = "erased_phones"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsentScope(enum.StrEnum):
    """What a consent covers: call-ups are service messages; anything else is a separate choice."""

    service = "service"  # call-ups, stand-downs and the messages that run the reserve
    marketing = "marketing"  # newsletters and news: never ticked for the volunteer


class Consent(Base):
    """One consent as given: the exact wording shown, its version, when, and what it covers.

    Kept when the volunteer is erased (with volunteer_id emptied by the erasure) as the record that the
    wording was shown and agreed to; it holds no personal data of its own.
    """

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteers.id", ondelete="SET NULL"), index=True
    )
    scope: Mapped[ConsentScope] = mapped_column(Enum(ConsentScope, name="consent_scope"))
    version: Mapped[str] = mapped_column(String(20))
    wording: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # web (the /join page), sms, admin
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
