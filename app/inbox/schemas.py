"""Request and response shapes for the coordinators' inbox."""

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.fields import PlainText
from app.inbox.models import InboxKind


class InboxOpenCallout(BaseModel):
    """A call-up of the item's volunteer a coordinator may count the message as an answer to."""

    callout_id: int
    incident_id: int
    incident_title: str
    skill: str
    ref: int
    status: str


class InboxItemRead(BaseModel):
    """One thing a coordinator must see: the volunteer's text (if any), why it is here, its resolution."""

    id: int
    kind: InboxKind
    created_at: datetime
    body: str | None
    volunteer_id: int | None
    volunteer_name: str | None
    incident_id: int | None
    callout_id: int | None
    note: str | None
    open_callouts: list[InboxOpenCallout]
    handled_at: datetime | None
    handled_by: str | None
    resolution: str | None
    resolution_detail: dict[str, Any] | None


class InboxPage(BaseModel):
    """One page of inbox items, newest first."""

    items: list[InboxItemRead]
    total: int


class InboxCount(BaseModel):
    """How many items are open."""

    open: int


class InboxState(enum.StrEnum):
    """Which items to list."""

    open = "open"
    handled = "handled"
    all = "all"


class ResolveAction(enum.StrEnum):
    """How a coordinator resolves an item: count it as YES or NO for a call-up, text back, or close it."""

    accept = "accept"
    decline = "decline"
    reply = "reply"
    handled = "handled"


class InboxResolve(BaseModel):
    """A coordinator's resolution of one item."""

    model_config = ConfigDict(extra="forbid")

    action: ResolveAction
    callout_id: int | None = Field(default=None, ge=0, le=2**31 - 1)
    text: PlainText | None = Field(default=None, min_length=1, max_length=300)
