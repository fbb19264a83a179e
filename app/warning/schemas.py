"""Response shapes for warnings."""

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.warning.models import (
    Certainty,
    MsgType,
    Severity,
    Urgency,
    WarningSource,
    WarningState,
    WarningStatus,
)


class Outcome(enum.StrEnum):
    """What one message did: a new warning, a change (or withdrawal) of one, or nothing (a duplicate,
    or a message older than what the warning already says)."""

    created = "created"
    updated = "updated"
    withdrawn = "withdrawn"
    duplicate = "duplicate"
    stale = "stale"


class WarningRead(BaseModel):
    """A warning as its latest message says it; `bbox` is [west, south, east, north] of its area."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    source: WarningSource
    sender: str
    identifier: str
    sent: datetime
    msg_type: MsgType
    status: WarningStatus
    event: str
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    ea_severity_level: int | None
    headline: str | None
    description: str | None
    instruction: str | None
    sender_name: str | None
    language: str | None
    languages: list[str]
    area_desc: str
    bbox: list[float] | None
    geocodes: list[dict[str, Any]]
    not_located: bool
    area_url: str | None
    effective: datetime | None
    onset: datetime | None
    expires: datetime | None
    state: WarningState
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    messages: int
    received_at: datetime
    updated_at: datetime


class IngestItem(BaseModel):
    """One message of the document and what it did."""

    outcome: Outcome
    warning: WarningRead


class IngestResult(BaseModel):
    """What a document did, message by message; `links` are feed entries that only link to an alert
    (the feed poller fetches those)."""

    created: int
    updated: int
    unchanged: int
    items: list[IngestItem]
    links: list[str]


class WarningPage(BaseModel):
    """Current warnings and those ended or changed lately, newest message first."""

    items: list[WarningRead]
    total: int
