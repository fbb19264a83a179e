"""An incident's timeline: the audit events of the incident, its needs, call-ups and messages, and the
coordinators' inbox resolutions about it, in order.

The audit trail keeps what happened; this reads it for a coordinator. Details are passed through a
filter that keeps numbers, flags and a few known words (skill, reason, status) and drops every other
text, so no phone number, message body or provider error text reaches the page.
"""

import re
from typing import Any

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.service import ACTOR_PREFIX
from app.callout.models import Callout
from app.callout.schemas import Timeline, TimelineEvent
from app.incident.models import Need
from app.incident.service import get_incident
from app.message.models import Message
from app.volunteer.models import Volunteer

VOLUNTEER_PREFIX = "volunteer:"
INBOX_ITEM = "inbox_item"  # the audit entity of app.inbox, named here without importing it
# Words that name a thing in the catalogue or a state, never a person's text.
SAFE_TEXT = {"skill", "reason", "status", "kind", "resolution", "checkin", "path"}
# Lists of ids are summarised as how many (a wave of 500 people is one event, not 500 ids).
COUNTED = {"volunteers", "callouts"}
PHONE = re.compile(r"\+?\d[\d ]{7,}\d")


def incident_timeline(session: Session, *, incident_id: int) -> Timeline:
    """Every audit event about an incident, oldest first, with who did it and safe details."""
    get_incident(session, incident_id=incident_id)
    callouts = select(Callout.id).where(Callout.incident_id == incident_id)
    needs = select(Need.id).where(Need.incident_id == incident_id)
    messages = select(Message.id).where(
        or_(Message.incident_id == incident_id, Message.callout_id.in_(callouts))
    )
    about = or_(
        and_(AuditEvent.entity_type == "incident", AuditEvent.entity_id == incident_id),
        and_(AuditEvent.entity_type == "need", AuditEvent.entity_id.in_(needs)),
        and_(AuditEvent.entity_type == "callout", AuditEvent.entity_id.in_(callouts)),
        and_(AuditEvent.entity_type == "message", AuditEvent.entity_id.in_(messages)),
        # Inbox items are a layer above; their events carry the incident or the call-up they resolved.
        and_(
            AuditEvent.entity_type == INBOX_ITEM,
            or_(
                AuditEvent.detail["incident_id"].astext == str(incident_id),
                AuditEvent.detail["callout_id"].astext.in_(
                    select(cast(Callout.id, String)).where(Callout.incident_id == incident_id)
                ),
            ),
        ),
    )
    events = list(session.scalars(select(AuditEvent).where(about).order_by(AuditEvent.at, AuditEvent.id)))
    names = _volunteer_names(session, {e.actor for e in events})
    return Timeline(
        events=[
            TimelineEvent(
                at=e.at,
                action=e.action,
                actor=e.actor,
                actor_name=_actor_name(e.actor, names),
                detail=safe_detail(e.detail or {}),
            )
            for e in events
        ]
    )


def _volunteer_names(session: Session, actors: set[str]) -> dict[str, str]:
    ids = {int(a.removeprefix(VOLUNTEER_PREFIX)) for a in actors if a.startswith(VOLUNTEER_PREFIX)}
    if not ids:
        return {}
    rows = session.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(ids)))
    return {f"{VOLUNTEER_PREFIX}{vid}": name for vid, name in rows}


def _actor_name(actor: str, names: dict[str, str]) -> str:
    """A token's name, a volunteer's name, or the system as recorded."""
    if actor.startswith(ACTOR_PREFIX):
        return actor.removeprefix(ACTOR_PREFIX).partition(":")[2] or actor
    if actor.startswith(VOLUNTEER_PREFIX):
        return names.get(actor, "a volunteer no longer on the register")
    return actor


def safe_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """Numbers, flags, counts and known words from an event's detail; any other text is left out."""
    safe: dict[str, Any] = {}
    for key, value in detail.items():
        if isinstance(value, bool | int | float) or value is None:
            safe[key] = value
        elif isinstance(value, str) and key in SAFE_TEXT:
            safe[key] = PHONE.sub("[number]", value)[:200]
        elif isinstance(value, list) and key in COUNTED:
            safe[key] = len(value)
        elif isinstance(value, list) and all(isinstance(v, int) for v in value):
            safe[key] = value[:50]
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            safe[key] = [safe_detail(v) for v in value[:50]]
    return safe
