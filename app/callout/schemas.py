"""Response shapes of the engine's reads for the console: a declaration's preview, an incident's timeline."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class NeedPreview(BaseModel):
    """One need and how many people the selection could call for it now."""

    skill: str
    count: int
    eligible_within_radius: int
    eligible_within_max_radius: int


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
