"""Signing keys, issued passport credentials and the volunteers' one-use passport links."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class SigningKey(Base):
    """One of the service's Ed25519 keys. The newest unretired one signs; every key stays published so
    what it signed still verifies. The private half is kept only as a password-encrypted PKCS#8 PEM."""

    __tablename__ = "badge_keys"
    __table_args__ = (
        # At most one current key: rotation retires the old one in the same transaction.
        Index(
            "uq_badge_keys_current",
            "retired_at",
            unique=True,
            postgresql_nulls_not_distinct=True,
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSONB)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BadgeKind(enum.StrEnum):
    """What an issued credential attests."""

    skill = "skill"  # one verified passport credential
    hours = "hours"  # the volunteer's record of deployments and hours


class IssuedBadge(Base):
    """A credential we signed, with the facts it states (never a name, which is read when it is signed)
    and its bit in the status list. Revoked is for good: a changed credential is issued anew."""

    __tablename__ = "badge_issues"
    __table_args__ = (
        Index("ix_badge_issues_volunteer_live", "volunteer_id", postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid.uuid4)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    # Emptied when the passport entry is deleted; a database trigger revokes the issue first.
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[BadgeKind] = mapped_column(Enum(BadgeKind, name="badge_kind"))
    skill_code: Mapped[str | None] = mapped_column(String(40))
    level: Mapped[int | None] = mapped_column(SmallInteger)
    hours: Mapped[float | None] = mapped_column(Float)
    deployments: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where its revocation bit is: list status_index // LIST_SIZE, bit status_index % LIST_SIZE.
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(200))


class PassportLink(Base):
    """A link texted to a volunteer (PASSPORT): shows their passport once, within minutes. Only the
    token's hash is kept; the token itself lives only in the SMS."""

    __tablename__ = "passport_links"
    __table_args__ = (Index("ix_passport_links_volunteer_created", "volunteer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
