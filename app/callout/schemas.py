"""Response shapes of the engine's own reads: an incident's report (what happened, for the record), a
declaration's preview and an incident's timeline (for the console)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ReportIncident(BaseModel):
    """The incident the report is about."""

    id: int
    title: str
    kind: str
    exercise: bool
    emergency: bool  # false for an organisation's ask
    place: str
    status: str
    declared_at: datetime
    closed_at: datetime | None
    close_reason: str | None


class TimelineEntry(BaseModel):
    """One milestone: declared, first SMS sent, a need filled, closed."""

    at: datetime
    event: str
    detail: str | None


class FillPoint(BaseModel):
    """How many of the people confirmed at the end had said YES by this minute after declaring."""

    minute: int
    accepted: int


class NeedReport(BaseModel):
    """One need: how many were wanted and confirmed, when and how fast it filled."""

    skill: str
    count: int
    accepted: int
    filled_at: datetime | None
    time_to_fill_s: float | None
    fill_over_time: list[FillPoint]


class MessageCount(BaseModel):
    """Messages of one kind and direction and the SMS segments they took (what they cost)."""

    direction: str
    kind: str
    count: int
    segments: int


class MessagesReport(BaseModel):
    """Every message of the incident (never-sent ones left out), by kind."""

    by_kind: list[MessageCount]
    outbound: int
    inbound: int
    outbound_segments: int


class DistanceBand(BaseModel):
    """Of the people reached within a distance band, how many said YES."""

    band: str
    called: int
    accepted: int
    rate: float | None


class AttendanceRow(BaseModel):
    """One confirmed person and what the record says they did."""

    callout_id: int
    volunteer_id: int
    name: str
    skill: str
    eta_minutes: int | None
    checkin: str | None
    arrived_at: datetime | None
    done_at: datetime | None
    hours: float | None
    no_show: bool


class HoursReport(BaseModel):
    """Hours on duty of those whose arrival and finish are known."""

    total: float
    people: int


class IncidentReport(BaseModel):
    """What happened in an incident, kept after it closes."""

    incident: ReportIncident
    timeline: list[TimelineEntry]
    time_to_first_sms_s: float | None
    needs: list[NeedReport]
    messages: MessagesReport
    acceptance_by_distance: list[DistanceBand]
    attendance: list[AttendanceRow]
    hours: HoursReport


class NeedPreview(BaseModel):
    """One need and how many people the selection could call for it now."""

    skill: str
    count: int
    eligible_within_radius: int
    eligible_within_max_radius: int
    unverified_within_radius: int = Field(
        description="left out only because their credential is still pending verification"
    )
    unverified_within_max_radius: int
    unchecked_within_radius: int = Field(
        description="left out only for want of the need's disclosure check (0 when it asks for none)"
    )
    unchecked_within_max_radius: int


class IncidentPreview(BaseModel):
    """The needs of an incident not declared yet, with who could be called for each."""

    needs: list[NeedPreview]
    radius_km: float
    max_radius_km: float


class TimelineEvent(BaseModel):
    """One thing that happened to an incident: when, what, who (as recorded, and readable), and details.

    `detail` never holds a phone number or a message body (see `timeline.py`).
    """

    at: datetime
    action: str
    actor: str
    actor_name: str
    detail: dict[str, Any]


class Timeline(BaseModel):
    """Every event of an incident, oldest first."""

    events: list[TimelineEvent]
