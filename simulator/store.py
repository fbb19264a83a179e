"""The simulator's memory: every message in and out, and who has opted out."""

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

INBOUND = "inbound"
OUTBOUND = "outbound-api"


@dataclass
class SimMessage:
    """One SMS as the simulator saw it."""

    sid: str
    direction: str
    from_: str
    to: str
    body: str
    status: str
    num_segments: int
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    validity_period: int | None = None
    error_code: int | None = None
    date_created: datetime = field(default_factory=lambda: datetime.now(UTC))
    status_history: list[tuple[str, datetime]] = field(default_factory=list)
    webhook_status: int | None = None  # inbound only: what the app answered

    def __post_init__(self) -> None:
        if not self.status_history:
            self.status_history.append((self.status, self.date_created))

    @property
    def counterpart(self) -> str:
        """The volunteer's number: the other end of the conversation from our Twilio number."""
        return self.from_ if self.direction == INBOUND else self.to

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view for /simulator/messages."""
        return {
            "sid": self.sid,
            "direction": self.direction,
            "from": self.from_,
            "to": self.to,
            "body": self.body,
            "status": self.status,
            "status_history": [
                {"status": status, "at": at.isoformat()} for status, at in self.status_history
            ],
            "error_code": self.error_code,
            "num_segments": self.num_segments,
            "messaging_service_sid": self.messaging_service_sid,
            "status_callback": self.status_callback,
            "validity_period": self.validity_period,
            "date_created": format_datetime(self.date_created),
            "webhook_status": self.webhook_status,
        }


class MessageStore:
    """Thread-safe state shared by request handlers and the status-callback workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[str, SimMessage] = {}
        self._opted_out: set[str] = set()

    def add(self, message: SimMessage) -> None:
        """Remember a new message."""
        with self._lock:
            self._messages[message.sid] = message

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> SimMessage | None:
        """Move a message on; None when it is gone (state was cleared), so its worker can stop."""
        with self._lock:
            message = self._messages.get(sid)
            if message is None:
                return None
            message.status = status
            message.error_code = error_code
            message.status_history.append((status, datetime.now(UTC)))
            return replace(message, status_history=list(message.status_history))

    def set_webhook_status(self, sid: str, status: int | None) -> None:
        """Record how the app answered an inbound message."""
        with self._lock:
            if sid in self._messages:
                self._messages[sid].webhook_status = status

    def messages(self, number: str | None = None) -> list[SimMessage]:
        """Copies of all messages, oldest first, or only those to or from number."""
        with self._lock:
            found = [m for m in self._messages.values() if number is None or number in (m.from_, m.to)]
            return [replace(m, status_history=list(m.status_history)) for m in found]

    def clear(self) -> None:
        """Forget every message and opt-out."""
        with self._lock:
            self._messages.clear()
            self._opted_out.clear()

    def set_opted_out(self, number: str, opted_out: bool) -> None:
        """Track Twilio's per-sender opt-out list, changed by STOP and START keywords."""
        with self._lock:
            if opted_out:
                self._opted_out.add(number)
            else:
                self._opted_out.discard(number)

    def is_opted_out(self, number: str) -> bool:
        """Whether Twilio would refuse to message this number (error 21610)."""
        with self._lock:
            return number in self._opted_out
