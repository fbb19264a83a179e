"""Every webhook signature we have accepted (none can be used twice), and inbound SMS not yet acted on."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class WebhookSignature(Base):
    """One accepted X-Twilio-Signature; a second webhook under it is a replay or a forgery."""

    __tablename__ = "webhook_signatures"
    __table_args__ = (Index("ix_webhook_signatures_received_at", "received_at"),)

    signature: Mapped[str] = mapped_column(String(100), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InboundPending(Base):
    """A stored inbound SMS not yet acted on; deleted in the transaction that acts on it (exactly once)."""

    __tablename__ = "inbound_pending"
    __table_args__ = (Index("ix_inbound_pending_volunteer", "volunteer_id", "message_id"),)

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    volunteer_id: Mapped[int | None] = mapped_column(Integer)  # who sent it, as known when it arrived
    opt_out_type: Mapped[str | None] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
