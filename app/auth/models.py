"""API token table: only the SHA-256 of each token is stored."""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Role(enum.StrEnum):
    """What a token may do."""

    admin = "admin"
    coordinator = "coordinator"
    lrf_viewer = "lrf_viewer"
    # Bound to one organisation: sees and decides only the credentials of its members and those
    # claiming it as issuer (app/passport), and records its own activities with its own members
    # (app/activity); every other route refuses it.
    org_verifier = "org_verifier"


class ApiToken(Base):
    """A named bearer token; the secret itself is never stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(
            "(role::text = 'org_verifier') = (organisation_id IS NOT NULL)", name="organisation_for_verifiers"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(Enum(Role, name="role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    area_code: Mapped[str | None] = mapped_column(String(40))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Kept to the minute: one write per token per minute, not one per request.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
