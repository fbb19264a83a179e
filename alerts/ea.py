"""Environment Agency flood warnings: a response of the flood-monitoring API's `/id/floods` (a list of
items) or `/id/floods/{id}` (one item), read into plain dataclasses.

Severity levels: 1 severe flood warning, 2 flood warning, 3 flood alert, 4 no longer in force. The
API gives times without an offset; they are read as UK time (the Agency publishes for England).
The flood area's outline is only a URL here; fetching it is the feed poller's job.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alerts.safexml import MAX_DOCUMENT_BYTES, DocumentError

UK = ZoneInfo("Europe/London")
SENDER = "environment-agency"  # the sender of every EA warning: they are told apart by flood area
NO_LONGER_IN_FORCE = 4
MAX_TEXT = 20_000


@dataclass(frozen=True)
class FloodWarning:
    """One flood warning of one flood area, as of one message."""

    flood_area_id: str
    url: str | None
    severity_level: int
    severity: str
    description: str
    message: str | None
    county: str | None
    river_or_sea: str | None
    polygon_url: str | None
    time_raised: datetime
    time_message_changed: datetime
    time_severity_changed: datetime | None
    raw: str

    @property
    def in_force(self) -> bool:
        """Whether the warning still stands (level 4 says it no longer does)."""
        return self.severity_level != NO_LONGER_IN_FORCE


def parse_response(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> list[FloodWarning]:
    """Every item of a `/id/floods` response; DocumentError names the first item and field that is wrong."""
    if len(data) > max_bytes:
        raise DocumentError(f"the document is {len(data):,} bytes, over the limit of {max_bytes:,}")
    try:
        body = json.loads(data)
    except RecursionError:
        raise DocumentError("the JSON is nested too deep") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise DocumentError(f"the document is not valid JSON: {exc}") from None
    if not isinstance(body, dict) or "items" not in body:
        raise DocumentError("expected an Environment Agency /id/floods response: an object with 'items'")
    items = body["items"]
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise DocumentError("items must be a list of flood warnings (or one)")
    return [_warning(item, f"items[{i}]") for i, item in enumerate(items)]


def _warning(item: Any, where: str) -> FloodWarning:
    """One item, with the fields the warning is identified and ordered by required."""
    if not isinstance(item, dict):
        raise DocumentError(f"{where} must be an object")
    flood_area = item.get("floodArea")
    area: dict[str, Any] = flood_area if isinstance(flood_area, dict) else {}
    level = item.get("severityLevel")
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 4:
        raise DocumentError(f"{where}.severityLevel must be 1, 2, 3 or 4, got {level!r}"[:200])
    return FloodWarning(
        flood_area_id=_code(item.get("floodAreaID"), f"{where}.floodAreaID"),
        url=_text(item.get("@id"), f"{where}.@id"),
        severity_level=level,
        severity=_text(item.get("severity"), f"{where}.severity") or "",
        description=_text(item.get("description"), f"{where}.description") or "",
        message=_text(item.get("message"), f"{where}.message"),
        county=_text(area.get("county"), f"{where}.floodArea.county"),
        river_or_sea=_text(area.get("riverOrSea"), f"{where}.floodArea.riverOrSea"),
        polygon_url=_text(area.get("polygon"), f"{where}.floodArea.polygon"),
        time_raised=_time(item.get("timeRaised"), f"{where}.timeRaised"),
        time_message_changed=_time(item.get("timeMessageChanged"), f"{where}.timeMessageChanged"),
        time_severity_changed=(
            None
            if item.get("timeSeverityChanged") is None
            else _time(item["timeSeverityChanged"], f"{where}.timeSeverityChanged")
        ),
        raw=json.dumps(item, ensure_ascii=False),
    )


def _code(value: Any, where: str) -> str:
    """A flood area code such as 122WAC954."""
    if not isinstance(value, str) or not value.strip() or len(value) > 60 or any(c.isspace() for c in value):
        raise DocumentError(f"{where} must be a flood area code such as '122WAC954', got {value!r}"[:200])
    return value


def _text(value: Any, where: str) -> str | None:
    """Optional trimmed text, bounded."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise DocumentError(f"{where} must be text, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise DocumentError(f"{where} is {len(value):,} characters, over the limit of {MAX_TEXT:,}")
    return value.strip() or None


def _time(value: Any, where: str) -> datetime:
    """An ISO date and time; without an offset it is UK time."""
    if not isinstance(value, str):
        raise DocumentError(
            f"{where} must be a date and time such as '2016-03-27T10:52:00', got {value!r}"[:200]
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DocumentError(
            f"{where} {value[:40]!r} is not a date and time such as '2016-03-27T10:52:00'"
        ) from None
    return moment.replace(tzinfo=UK) if moment.tzinfo is None else moment
