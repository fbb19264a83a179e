"""Activity and milestone tables.

Deployments have no table of their own: a deployment is a confirmed call-up with arrived and done
times, read from `callouts` (see `service.deployments`), so the volunteer's check-ins and a
coordinator's corrections are the record, with no second copy to drift from them.
"""

from datetime import date, datetime

from geoalchemy2 import Geography, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Table,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

# The hours of one activity, for each person who came: a day's work at most.
MAX_ACTIVITY_HOURS = 24

activity_volunteers = Table(
    "activity_volunteers",
    Base.metadata,
    Column("activity_id", ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("volunteer_id", ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_activity_volunteers_volunteer_id", "volunteer_id"),
)


class Activity(Base):
    """A non-emergency activity an organisation ran (tree planting, a river clean), and its hours each."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(f"hours > 0 AND hours <= {MAX_ACTIVITY_HOURS}", name="hours_range"),
        Index("ix_activities_location", "location", postgresql_using="gist"),
        Index("ix_activities_organisation_held_on", "organisation_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(120))
    location: Mapped[WKBElement] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    hours: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Milestone(Base):
    """A milestone of hours a volunteer reached, kept so its thank-you is sent once and stays on the
    passport even if a later correction takes the total back under it."""

    __tablename__ = "volunteer_milestones"

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True
    )
    hours: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
