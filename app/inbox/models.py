"""Inbox table: what a person must read and resolve (an unreadable or ambiguous reply, a late answer, a
check-in, a volunteer who did not answer a welfare check)."""

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class InboxKind(enum.StrEnum):
    """Why an item is in the inbox.

    unreadable: a reply we could not read. ambiguous: a reply that could mean more than one call-up or
    answer. late: an answer after the call-up closed. checkin: a status word during a deployment
    (ENROUTE, LATE 15, ...) a coordinator should see. welfare: no answer to a welfare check in time.
    unknown_sender: a text from a phone we do not know that is not JOIN (someone with a new number?).
    leave: a volunteer texted LEAVE: a person erases them and tells them.
    """

    unreadable = "unreadable"
    ambiguous = "ambiguous"
    late = "late"
    checkin = "checkin"
    welfare = "welfare"
    unknown_sender = "unknown_sender"
    leave = "leave"


class InboxItem(Base):
    """One thing a coordinator must see; open until someone resolves it (who and how is kept)."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        Index("ix_inbox_items_open", "created_at", postgresql_where=text("handled_at IS NULL")),
        Index("ix_inbox_items_incident", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InboxKind] = mapped_column(Enum(InboxKind, name="inbox_kind"))
    # The volunteer's message, when the item is one (its body is there, erased with the rest).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    callout_id: Mapped[int | None] = mapped_column(ForeignKey("callouts.id", ondelete="SET NULL"))
    # What the system noticed, for the coordinator (never personal data: no names, numbers or text).
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by: Mapped[str | None] = mapped_column(String(120))
    # accepted | declined | replied | handled, and what went with it (the call-up, the text's message id).
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_detail: Mapped[dict[str, object] | None] = mapped_column(JSONB)
