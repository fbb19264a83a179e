"""Warning tables: one row per warning, however many messages changed it, and one row per message.

A warning is what an issuer warns of (a CAP alert and its updates, or one EA flood area's warning); its
columns hold the latest message's content. `warning_messages` holds every message received, keyed as
CAP dedupes them, (sender, identifier, sent); an EA message's key is (the EA, its flood area, its
message time). An update names earlier messages, so finding the warning it changes is a lookup here.

`area` is `geography(MultiPolygon, 4326)`, like incidents' areas, because a draft incident takes it
as its own; warnings placed only by codes we do not know have none (`not_located`). A draft incident
(issue 14, part 3) will point here with its own `warning_id`, so this table needs no link back.
"""

import enum
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography, WKBElement
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class WarningSource(enum.StrEnum):
    """Where a warning came from."""

    cap = "cap"
    ea = "ea"


class WarningStatus(enum.StrEnum):
    """CAP status: only an actual warning can lead to a real call-up, an exercise to an exercise."""

    actual = "actual"
    exercise = "exercise"
    system = "system"
    test = "test"
    draft = "draft"


class MsgType(enum.StrEnum):
    """The kind of the latest message."""

    alert = "alert"
    update = "update"
    cancel = "cancel"


class Severity(enum.StrEnum):
    """CAP severity; an EA level maps onto it (1 extreme, 2 severe, 3 moderate, 4 minor)."""

    extreme = "extreme"
    severe = "severe"
    moderate = "moderate"
    minor = "minor"
    unknown = "unknown"


class Urgency(enum.StrEnum):
    """CAP urgency."""

    immediate = "immediate"
    expected = "expected"
    future = "future"
    past = "past"
    unknown = "unknown"


class Certainty(enum.StrEnum):
    """CAP certainty."""

    observed = "observed"
    likely = "likely"
    possible = "possible"
    unlikely = "unlikely"
    unknown = "unknown"


class WarningState(enum.StrEnum):
    """Active until cancelled (CAP Cancel, EA level 4); an expired warning stays active but past `expires`."""

    active = "active"
    withdrawn = "withdrawn"


class IssuedWarning(Base):
    """One official warning as its latest message says it."""

    __tablename__ = "warnings"
    __table_args__ = (
        Index("ix_warnings_area", "area", postgresql_using="gist"),
        Index("ix_warnings_source_identifier", "source", "sender", "identifier"),
        CheckConstraint("ea_severity_level BETWEEN 1 AND 4", name="ea_severity_level_range"),
        CheckConstraint("(state = 'withdrawn') = (withdrawn_at IS NOT NULL)", name="withdrawn_when"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[WarningSource] = mapped_column(Enum(WarningSource, name="warning_source"))
    sender: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    sent: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    msg_type: Mapped[MsgType] = mapped_column(Enum(MsgType, name="warning_msg_type"))
    status: Mapped[WarningStatus] = mapped_column(Enum(WarningStatus, name="warning_status"))
    scope: Mapped[str | None] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(255))
    severity: Mapped[Severity] = mapped_column(Enum(Severity, name="warning_severity"), index=True)
    urgency: Mapped[Urgency] = mapped_column(Enum(Urgency, name="warning_urgency"))
    certainty: Mapped[Certainty] = mapped_column(Enum(Certainty, name="warning_certainty"))
    ea_severity_level: Mapped[int | None] = mapped_column(SmallInteger)
    headline: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    instruction: Mapped[str | None] = mapped_column(Text)
    sender_name: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(35))
    # Every info block (each language), without areas: [{language, event, headline, ...}].
    infos: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    area_desc: Mapped[str] = mapped_column(Text, default="")
    area: Mapped[WKBElement | None] = mapped_column(
        Geography("MULTIPOLYGON", srid=4326, spatial_index=False), deferred=True, deferred_raiseload=True
    )
    # [{name, value, area}]: `area` is the resilience area code a geocode resolved to, or None.
    geocodes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    not_located: Mapped[bool] = mapped_column(default=False)
    area_url: Mapped[str | None] = mapped_column(String(500))  # an EA flood area's outline, to fetch
    effective: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    onset: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[WarningState] = mapped_column(
        Enum(WarningState, name="warning_state"), default=WarningState.active, index=True
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str | None] = mapped_column(String(300))
    raw: Mapped[str] = mapped_column(Text, deferred=True)  # the latest message, cut to MAX_RAW_CHARS
    raw_size: Mapped[int] = mapped_column(Integer)  # its whole length: more than len(raw) when cut
    messages: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), index=True
    )


class WarningMessage(Base):
    """One message received for a warning: how duplicates are known and updates find their warning."""

    __tablename__ = "warning_messages"
    __table_args__ = (
        UniqueConstraint("sender", "identifier", "sent", name="uq_warning_messages_key"),
        Index("ix_warning_messages_references", "references", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    sent: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    msg_type: Mapped[MsgType] = mapped_column(Enum(MsgType, name="warning_msg_type"))
    # The messages this one names, as "sender,identifier,sent" (sent in UTC ISO form): an Alert that
    # arrives after its own Update finds the warning through them.
    references: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    outcome: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
