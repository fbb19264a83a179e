"""Every webhook signature we have accepted, so none can be used twice."""

from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class WebhookSignature(Base):
    """One accepted X-Twilio-Signature; a second webhook under it is a replay or a forgery."""

    __tablename__ = "webhook_signatures"

    signature: Mapped[str] = mapped_column(String(100), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
