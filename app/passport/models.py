"""What an organisation decided about a credential, and on what evidence."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.volunteer.models import CredentialStatus


class CredentialReview(Base):
    """One verification or rejection of a credential by an organisation's verifier.

    The credential carries its current status; these rows keep every decision with the evidence seen
    (certificate number, course, date) or the reason given. Erasing the person deletes their
    credentials and, with them, these rows.
    """

    __tablename__ = "credential_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"), index=True)
    decision: Mapped[CredentialStatus] = mapped_column(Enum(CredentialStatus, name="credential_status"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    actor: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)


def evidence_of(*, certificate_number: str, course: str, certified_on: date) -> dict[str, Any]:
    """The evidence a verifier saw, as kept in JSON."""
    return {
        "certificate_number": certificate_number,
        "course": course,
        "certified_on": certified_on.isoformat(),
    }
