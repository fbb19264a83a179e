"""Sign-ups waiting for their phone to be verified, and the one-time codes sent by SMS."""

import enum
from datetime import datetime

from geoalchemy2 import Geography, WKBElement
from sqlalchemy import Boolean, DateTime, Enum, Float, ForeignKey, Index, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class SignupState(enum.StrEnum):
    """Where a sign-up is: waiting for its code, done, or given up (expired, too many tries)."""

    pending = "pending"
    verified = "verified"
    expired = "expired"


class Signup(Base):
    """What a member of the public filled in at /join, kept until their phone is verified.

    Personal data: the row is emptied once verified (the volunteer row holds it from then on) and
    deleted when it expires unverified.
    """

    __tablename__ = "signups"
    __table_args__ = (Index("ix_signups_pending", "created_at", postgresql_where=text("state = 'pending'")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The random reference the browser holds to verify this sign-up; never a database id.
    token: Mapped[str] = mapped_column(String(43), unique=True)
    state: Mapped[SignupState] = mapped_column(
        Enum(SignupState, name="signup_state"), default=SignupState.pending
    )
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    # The existing volunteer this phone belongs to (a duplicate sign-up becomes an offer to update).
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    # Everything else from the form (name, place, skills, organisations, languages, availability, travel).
    details: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    location: Mapped[WKBElement | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    max_travel_km: Mapped[float | None] = mapped_column(Float)
    consent_version: Mapped[str] = mapped_column(String(20))
    marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    # A keyed fingerprint of the client's address, for the per-address limit; never the address itself.
    client: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CodePurpose(enum.StrEnum):
    """What a one-time SMS code proves."""

    signup = "signup"  # a new sign-up holds this phone
    update = "update"  # an existing volunteer (a duplicate sign-up) agrees to update their details
    leave = "leave"  # the volunteer confirms LEAVE: erase me


class PhoneCode(Base):
    """A one-time code sent by SMS: only its keyed hash is kept (app/signup/codes.py)."""

    __tablename__ = "phone_codes"
    __table_args__ = (Index("ix_phone_codes_phone_created", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # emptied when its volunteer is erased
    purpose: Mapped[CodePurpose] = mapped_column(Enum(CodePurpose, name="code_purpose"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    signup_id: Mapped[int | None] = mapped_column(ForeignKey("signups.id", ondelete="CASCADE"), index=True)
    # The SMS that carries the code: the code's ten minutes start when the provider accepts it.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
