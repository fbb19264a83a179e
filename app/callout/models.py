"""Call-up table."""

import enum
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class CalloutStatus(enum.StrEnum):
    """Where a call-up stands.

    called: asked, no answer yet. accepted: said YES while the need was open. declined: said NO.
    stood_down: told they are not needed (need filled, count lowered, incident closed).
    cancelled: never sent (opted out, or stood down before sending). failed: could not be delivered.
    """

    called = "called"
    accepted = "accepted"
    declined = "declined"
    stood_down = "stood_down"
    cancelled = "cancelled"
    failed = "failed"


OPEN_STATUSES = (CalloutStatus.called,)


class Callout(Base):
    """One volunteer asked for one need; a volunteer is called at most once per incident."""

    __tablename__ = "callouts"
    __table_args__ = (
        UniqueConstraint("incident_id", "volunteer_id", name="uq_callouts_incident_volunteer"),
        Index("ix_callouts_volunteer_status", "volunteer_id", "status"),
        Index("ix_callouts_need_status", "need_id", "status"),
        # The welfare checks still waiting for an OK (the reconciler looks for overdue ones).
        Index(
            "ix_callouts_welfare_pending",
            "welfare_asked_at",
            postgresql_where=text("welfare_asked_at IS NOT NULL AND welfare_ok_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    wave: Mapped[int] = mapped_column(Integer)
    # Emptied on erasure: with the incident's place it would locate the home.
    distance_km: Mapped[float | None] = mapped_column(Float)
    status: Mapped[CalloutStatus] = mapped_column(
        Enum(CalloutStatus, name="callout_status"), default=CalloutStatus.called
    )
    reason: Mapped[str | None] = mapped_column(String(200))
    called_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # During and after a deployment: what the volunteer told us (ETA, ENROUTE/LATE/ARRIVED/DONE) or a
    # coordinator entered; kept when the incident closes, so the record shows who came and for how long.
    eta_minutes: Mapped[int | None] = mapped_column(Integer)
    checkin: Mapped[str | None] = mapped_column(String(20))
    checkin_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Hours a coordinator entered as a figure (times unknown, or a shift not on the clock): when set, it
    # is the deployment's hours instead of done - arrived.
    entered_hours: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    # Welfare check after DONE or at close: asked, and answered OK.
    welfare_asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    welfare_ok_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
