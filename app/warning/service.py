"""Ingesting warnings: parse the whole document, place every alert, then write; services flush.

A message already received (same sender, identifier and sent; for the EA, same flood area and message
time) is a duplicate. A CAP Update or Cancel changes the warning of the messages it references, an EA
message the current warning of its flood area; a Cancel or EA level 4 withdraws it. A message older
than what its warning already says is recorded and changes nothing. Ingests are serialised by one
transaction lock: they are few, and two copies of one alert racing must not make two warnings.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Float, and_, cast, func, or_, select, text, type_coerce
from sqlalchemy.orm import Session

from alerts import cap, ea
from alerts.safexml import DocumentError
from app.area.models import Area
from app.audit.service import record
from app.errors import UnsupportedMediaType
from app.warning.locate import Located, locate
from app.warning.models import (
    Certainty,
    IssuedWarning,
    MsgType,
    Severity,
    Urgency,
    WarningMessage,
    WarningSource,
    WarningState,
    WarningStatus,
)
from app.warning.schemas import Outcome, WarningRead

XML_TYPES = frozenset(
    {"application/cap+xml", "application/xml", "text/xml", "application/atom+xml", "application/rss+xml"}
)
JSON_TYPES = frozenset({"application/json"})
MAX_RAW_CHARS = 256 * 1024  # the raw message kept; the NWS's detailed outlines make 1.7 MB
_INGEST_LOCK = 0x6E7672_7761726E  # "nvr" "warn"
# EA levels: the CAP severity, urgency and certainty each stands for.
_EA_LEVELS = {
    1: (Severity.extreme, Urgency.immediate, Certainty.likely),
    2: (Severity.severe, Urgency.immediate, Certainty.likely),
    3: (Severity.moderate, Urgency.expected, Certainty.possible),
    4: (Severity.minor, Urgency.past, Certainty.observed),
}


@dataclass(frozen=True)
class Ingested:
    """What one message did to which warning."""

    outcome: Outcome
    warning: IssuedWarning


@dataclass
class IngestReport:
    """What a document did, message by message."""

    items: list[Ingested] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        """How many new warnings."""
        return sum(i.outcome is Outcome.created for i in self.items)


def ingest_document(session: Session, *, data: bytes, media_type: str, actor: str) -> IngestReport:
    """Ingest a CAP alert or feed (XML types) or an EA `/id/floods` response (JSON), all or nothing."""
    kind = media_type.split(";")[0].strip().lower()
    if kind in XML_TYPES:
        document = cap.parse_document(data)
        placed = [(alert, locate(session, areas=alert.areas)) for alert in document.alerts]
        _lock(session)
        items = [ingest_alert(session, alert=alert, located=where, actor=actor) for alert, where in placed]
        return IngestReport(items=items, links=document.links)
    if kind in JSON_TYPES:
        warnings = ea.parse_response(data)
        _lock(session)
        return IngestReport(items=[ingest_flood_warning(session, warning=w, actor=actor) for w in warnings])
    raise UnsupportedMediaType(
        f"Content-Type {kind or 'none'} is not taken here: send CAP as application/cap+xml or "
        "application/xml, or an Environment Agency response as application/json"
    )


def ingest_alert(session: Session, *, alert: cap.Alert, located: Located, actor: str) -> Ingested:
    """Apply one CAP alert: a new warning, a change to the one it references, or nothing new."""
    own = _key(alert.sender, alert.identifier, alert.sent)
    references = [k for k in (_key(r.sender, r.identifier, r.sent) for r in alert.references) if k != own]
    known = _message(session, alert.sender, alert.identifier, alert.sent)
    if known is not None:
        return _finish(
            session, Outcome.duplicate, _warning(session, known.warning_id), alert.msg_type, actor, alert
        )
    target = _referenced(session, alert.references)
    if target is None:
        # Messages can arrive out of order: a later one already received may name this one.
        later = session.scalar(
            select(WarningMessage.warning_id).where(WarningMessage.references.contains([own])).limit(1)
        )
        if later is not None:
            return _finish(
                session, Outcome.stale, _warning(session, later), alert.msg_type, actor, alert, references
            )
    if target is None:
        warning = IssuedWarning(source=WarningSource.cap, messages=0)
        _apply_alert(warning, alert, located)
        session.add(warning)
        session.flush()
        return _finish(session, Outcome.created, warning, alert.msg_type, actor, alert, references)
    if alert.msg_type is cap.MsgType.cancel:
        if alert.sent > target.sent:
            _apply_alert(target, alert, located)
        _withdraw(target, f"cancelled by {alert.sender}", alert.sent)
        return _finish(session, Outcome.withdrawn, target, alert.msg_type, actor, alert, references)
    if alert.sent <= target.sent:
        return _finish(session, Outcome.stale, target, alert.msg_type, actor, alert, references)
    _apply_alert(target, alert, located)
    return _finish(session, Outcome.updated, target, alert.msg_type, actor, alert, references)


def ingest_flood_warning(session: Session, *, warning: ea.FloodWarning, actor: str) -> Ingested:
    """Apply one EA flood warning: its flood area's current warning changes, or a new one starts."""
    sent = warning.time_message_changed
    msg_type = cap.MsgType.alert if warning.in_force else cap.MsgType.cancel
    known = _message(session, ea.SENDER, warning.flood_area_id, sent)
    if known is not None:
        return _finish(
            session, Outcome.duplicate, _warning(session, known.warning_id), msg_type, actor, warning
        )
    target = session.scalar(
        select(IssuedWarning)
        .where(
            IssuedWarning.source == WarningSource.ea,
            IssuedWarning.sender == ea.SENDER,
            IssuedWarning.identifier == warning.flood_area_id,
        )
        .order_by(IssuedWarning.id.desc())
        .limit(1)
    )
    raised_again = target is not None and target.state is WarningState.withdrawn and warning.in_force
    if target is not None and sent <= target.sent:
        return _finish(session, Outcome.stale, target, msg_type, actor, warning)
    if target is None or raised_again:
        created = IssuedWarning(source=WarningSource.ea, messages=0)
        _apply_flood_warning(created, warning, MsgType.alert if warning.in_force else MsgType.cancel)
        session.add(created)
        session.flush()
        return _finish(session, Outcome.created, created, msg_type, actor, warning)
    was_active = target.state is WarningState.active
    _apply_flood_warning(target, warning, MsgType.update if warning.in_force else MsgType.cancel)
    outcome = Outcome.withdrawn if was_active and not warning.in_force else Outcome.updated
    return _finish(session, outcome, target, msg_type, actor, warning)


def list_warnings(
    session: Session,
    *,
    area_code: str | None,
    severities: Sequence[Severity],
    recent: timedelta,
    now: datetime,
    limit: int,
    offset: int,
) -> tuple[list[WarningRead], int]:
    """Warnings in force now, and those withdrawn, expired or changed within `recent`, newest first;
    only those touching `area_code`'s area (by outline or by its code) and of `severities` when given."""
    in_force = and_(
        IssuedWarning.state == WarningState.active,
        or_(IssuedWarning.expires.is_(None), IssuedWarning.expires > now),
    )
    query = select(IssuedWarning).where(or_(in_force, IssuedWarning.updated_at >= now - recent))
    if severities:
        query = query.where(IssuedWarning.severity.in_(list(severities)))
    if area_code is not None:
        boundary = select(Area.geom).where(Area.code == area_code).scalar_subquery()
        by_code = IssuedWarning.geocodes.contains([{"area": area_code}])
        query = query.where(or_(func.ST_Intersects(cast(IssuedWarning.area, Geometry), boundary), by_code))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(IssuedWarning.sent.desc(), IssuedWarning.id.desc()).limit(limit).offset(offset)
    ).all()
    return [
        to_read(w, bbox=bbox) for w, bbox in zip(rows, _bboxes(session, [w.id for w in rows]), strict=True)
    ], total


def to_read(warning: IssuedWarning, *, bbox: list[float] | None) -> WarningRead:
    """The API's view of a warning."""
    languages = [str(i.get("language")) for i in warning.infos if i.get("language")]
    fields = {name: getattr(warning, name) for name in WarningRead.model_fields if hasattr(warning, name)}
    fields.pop("bbox", None)
    fields.pop("languages", None)
    return WarningRead(**fields, bbox=bbox, languages=languages)


def read_warnings(session: Session, items: Sequence[Ingested]) -> list[WarningRead]:
    """The API's view of ingested warnings, with their bounding boxes."""
    boxes = _bboxes(session, [i.warning.id for i in items])
    return [to_read(i.warning, bbox=box) for i, box in zip(items, boxes, strict=True)]


def _bboxes(session: Session, ids: Sequence[int]) -> list[list[float] | None]:
    """[west, south, east, north] of each warning's area, in the order of `ids`."""
    if not ids:
        return []
    box = func.Box2D(cast(IssuedWarning.area, Geometry))
    rows = session.execute(
        select(
            IssuedWarning.id,
            type_coerce(func.ST_XMin(box), Float),
            type_coerce(func.ST_YMin(box), Float),
            type_coerce(func.ST_XMax(box), Float),
            type_coerce(func.ST_YMax(box), Float),
        ).where(IssuedWarning.id.in_(list(set(ids))))
    ).all()
    found = {i: None if w is None else [w, s, e, n] for i, w, s, e, n in rows}
    return [found.get(i) for i in ids]


def _apply_alert(warning: IssuedWarning, alert: cap.Alert, located: Located) -> None:
    """Write an alert's content onto its warning."""
    info = alert.info
    warning.sender = alert.sender
    warning.identifier = alert.identifier
    warning.sent = alert.sent
    warning.msg_type = MsgType(alert.msg_type.value.lower())
    warning.status = WarningStatus(alert.status.value.lower())
    warning.scope = (alert.scope or "")[:40] or None
    warning.event = (info.event if info else "")[:255]
    warning.severity = Severity(info.severity.value.lower()) if info else Severity.unknown
    warning.urgency = Urgency(info.urgency.value.lower()) if info else Urgency.unknown
    warning.certainty = Certainty(info.certainty.value.lower()) if info else Certainty.unknown
    warning.headline = info.headline if info else None
    warning.description = info.description if info else None
    warning.instruction = info.instruction if info else None
    warning.sender_name = (info.sender_name or "")[:255] or None if info else None
    warning.language = info.language[:35] if info else None
    warning.effective = info.effective if info else None
    warning.onset = info.onset if info else None
    warning.expires = info.expires if info else None
    warning.infos = [_info_summary(i) for i in alert.infos]
    descriptions = dict.fromkeys(a.description for a in (info.areas if info else []) if a.description)
    warning.area_desc = "; ".join(descriptions)[:2000]
    warning.area = located.area
    warning.geocodes = located.geocodes
    warning.not_located = located.not_located
    warning.raw = alert.raw[:MAX_RAW_CHARS]
    warning.raw_size = len(alert.raw)
    if alert.msg_type is not cap.MsgType.cancel:
        warning.state = WarningState.active
        warning.withdrawn_at = None
        warning.withdrawn_reason = None
    elif warning.state is not WarningState.withdrawn:
        _withdraw(warning, f"cancelled by {alert.sender}", alert.sent)


def _apply_flood_warning(warning: IssuedWarning, flood: ea.FloodWarning, msg_type: MsgType) -> None:
    """Write an EA message onto its warning; the area waits for the flood area's outline."""
    severity, urgency, certainty = _EA_LEVELS[flood.severity_level]
    warning.sender = ea.SENDER
    warning.identifier = flood.flood_area_id
    warning.sent = flood.time_message_changed
    warning.msg_type = msg_type
    warning.status = WarningStatus.actual
    warning.scope = "Public"
    warning.event = (flood.severity or "Flood warning")[:255]
    warning.severity, warning.urgency, warning.certainty = severity, urgency, certainty
    warning.ea_severity_level = flood.severity_level
    warning.headline = f"{flood.severity}: {flood.description}" if flood.severity else flood.description
    warning.description = flood.message
    warning.instruction = None
    warning.sender_name = "Environment Agency"
    warning.language = "en-GB"
    warning.effective = flood.time_raised
    warning.onset = None
    warning.expires = None
    warning.infos = []
    warning.area_desc = ", ".join(p for p in (flood.description, flood.county) if p)[:2000]
    if warning.area_url != flood.polygon_url:
        warning.area = None  # another flood area outline: the poller fetches it anew
    warning.area_url = flood.polygon_url
    warning.geocodes = [{"name": "EA_FLOOD_AREA", "value": flood.flood_area_id, "area": None}]
    warning.not_located = True
    warning.raw = flood.raw[:MAX_RAW_CHARS]
    warning.raw_size = len(flood.raw)
    if flood.in_force:
        warning.state = WarningState.active
        warning.withdrawn_at = None
        warning.withdrawn_reason = None
    elif warning.state is not WarningState.withdrawn:
        _withdraw(warning, "Environment Agency: warning no longer in force", flood.time_message_changed)


def _withdraw(warning: IssuedWarning, reason: str, at: datetime) -> None:
    """Mark a warning withdrawn, once: the first withdrawal's time and reason stand."""
    if warning.state is WarningState.withdrawn:
        return
    warning.state = WarningState.withdrawn
    warning.withdrawn_at = at
    warning.withdrawn_reason = reason[:300]


def _finish(
    session: Session,
    outcome: Outcome,
    warning: IssuedWarning,
    msg_type: cap.MsgType,
    actor: str,
    message: cap.Alert | ea.FloodWarning,
    references: Sequence[str] = (),
) -> Ingested:
    """Record the message (unless a duplicate) and what it did, in the warning and the audit trail."""
    sender, identifier, sent = _identity(message)
    if outcome is not Outcome.duplicate:
        warning.messages = (warning.messages or 0) + 1
        session.add(
            WarningMessage(
                warning_id=warning.id,
                sender=sender,
                identifier=identifier,
                sent=sent,
                msg_type=MsgType(msg_type.value.lower()),
                references=list(references),
                outcome=outcome.value,
            )
        )
    session.flush()
    detail: dict[str, Any] = {
        "source": warning.source.value,
        "sender": sender,
        "identifier": identifier,
        "sent": sent.isoformat(),
        "msg_type": msg_type.value.lower(),
        "status": warning.status.value,
        "severity": warning.severity.value,
        "state": warning.state.value,
    }
    record(
        session,
        actor=actor,
        action=f"warnings.{outcome.value}",
        entity_type="warning",
        entity_id=warning.id,
        detail=detail,
    )
    return Ingested(outcome=outcome, warning=warning)


def _identity(message: cap.Alert | ea.FloodWarning) -> tuple[str, str, datetime]:
    """A message's dedupe key: (sender, identifier, sent)."""
    if isinstance(message, cap.Alert):
        return message.sender, message.identifier, message.sent
    return ea.SENDER, message.flood_area_id, message.time_message_changed


def _key(sender: str, identifier: str, sent: datetime) -> str:
    """A message's key as CAP writes references, with `sent` in UTC so equal instants compare equal."""
    return f"{sender},{identifier},{sent.astimezone(UTC).isoformat()}"


def _message(session: Session, sender: str, identifier: str, sent: datetime) -> WarningMessage | None:
    """The message already received with this key."""
    return session.scalar(
        select(WarningMessage).where(
            WarningMessage.sender == sender,
            WarningMessage.identifier == identifier,
            WarningMessage.sent == sent,
        )
    )


def _referenced(session: Session, references: Sequence[cap.Reference]) -> IssuedWarning | None:
    """The warning of the messages an alert references (the latest, should they name several)."""
    if not references:
        return None
    keys = [
        and_(
            WarningMessage.sender == r.sender,
            WarningMessage.identifier == r.identifier,
            WarningMessage.sent == r.sent,
        )
        for r in references
    ]
    return session.scalar(
        select(IssuedWarning)
        .join(WarningMessage, WarningMessage.warning_id == IssuedWarning.id)
        .where(or_(*keys))
        .order_by(IssuedWarning.sent.desc(), IssuedWarning.id.desc())
        .limit(1)
    )


def _warning(session: Session, warning_id: int) -> IssuedWarning:
    """A warning by id (it exists: a message row points at it)."""
    warning = session.get(IssuedWarning, warning_id)
    if warning is None:  # pragma: no cover - the foreign key keeps it
        raise DocumentError(f"warning {warning_id} is gone")
    return warning


def _info_summary(info: cap.Info) -> dict[str, Any]:
    """One info block as kept beside the chosen one: every language's own words."""
    return {
        "language": info.language,
        "event": info.event,
        "headline": info.headline,
        "description": info.description,
        "instruction": info.instruction,
        "severity": info.severity.value.lower(),
        "urgency": info.urgency.value.lower(),
        "certainty": info.certainty.value.lower(),
        "expires": info.expires.isoformat() if info.expires else None,
    }


def _lock(session: Session) -> None:
    """Serialise ingests until this transaction ends (see the module docstring)."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INGEST_LOCK})
