"""Incident and need tables."""

import enum
from datetime import datetime

from geoalchemy2 import Geography, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.check.models import LEVEL_TYPE, WORKFORCE_TYPE, CheckLevel, CheckNeed, Workforce
from app.db import Base, TimestampMixin


class IncidentKind(enum.StrEnum):
    """What kind of emergency, or of work an organisation asks help with (environment, community)."""

    flood = "flood"
    storm = "storm"
    wildfire = "wildfire"
    heatwave = "heatwave"
    search = "search"
    pollution = "pollution"
    other = "other"
    environment = "environment"  # tree planting, a river clean: an organisation's ask, not an emergency
    community = "community"  # a food bank, a welfare round: an organisation's ask, not an emergency


class IncidentStatus(enum.StrEnum):
    """Open incidents call people; closed ones have stood everyone down."""

    open = "open"
    closed = "closed"


class Incident(TimestampMixin, Base):
    """A declared emergency with an area on the map, or an organisation's ask for help that is not one
    (`emergency` false): both call people in the same waves; every text of an ask says it is not an
    emergency."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_area", "area", postgresql_using="gist"),
        CheckConstraint("radius_km >= 0", name="radius_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[IncidentKind] = mapped_column(Enum(IncidentKind, name="incident_kind"))
    area: Mapped[WKBElement] = mapped_column(Geography("GEOMETRY", srid=4326, spatial_index=False))
    radius_km: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(120))
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Who asked, for an organisation's ask; None for an emergency the reserve declared.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    rendezvous_point: Mapped[WKBElement | None] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False)
    )
    rendezvous_text: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[IncidentStatus] = mapped_column(
        Enum(IncidentStatus, name="incident_status"), default=IncidentStatus.open, index=True
    )
    overask: Mapped[float] = mapped_column(Float)
    wave_timeout_s: Mapped[int] = mapped_column(Integer)
    max_radius_km: Mapped[float] = mapped_column(Float)
    radius_step_km: Mapped[float] = mapped_column(Float)
    next_wave_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(String(300))

    needs: Mapped[list["Need"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", lazy="raise", order_by="Need.id"
    )


class Need(Base):
    """How many people with one skill an incident needs, and how far we have searched for them."""

    __tablename__ = "needs"
    __table_args__ = (
        UniqueConstraint("incident_id", "skill_code", name="uq_needs_incident_skill"),
        CheckConstraint("count >= 1", name="count_positive"),
        # A check is asked for at a level; from enhanced up, for a workforce too (as a check records it).
        CheckConstraint(
            "check_level IS NULL AND check_workforce IS NULL OR check_level IS NOT NULL AND "
            "(check_level IN ('enhanced', 'enhanced_barred')) = (check_workforce IS NOT NULL)",
            name="check_workforce_for_enhanced",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    skill_code: Mapped[str] = mapped_column(ForeignKey("skills.code"))
    count: Mapped[int] = mapped_column(Integer)
    search_radius_km: Mapped[float] = mapped_column(Float)
    waves: Mapped[int] = mapped_column(Integer, default=0)
    filled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exhausted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The disclosure and barring check everyone called must hold (app/check), or None.
    check_level: Mapped[CheckLevel | None] = mapped_column(LEVEL_TYPE)
    check_workforce: Mapped[Workforce | None] = mapped_column(WORKFORCE_TYPE)

    incident: Mapped[Incident] = relationship(back_populates="needs", lazy="raise")

    @property
    def check(self) -> CheckNeed | None:
        """The check this need asks for, if any."""
        return None if self.check_level is None else CheckNeed(self.check_level, self.check_workforce)
