"""This worker process's leases on the messages it claims: its holder name and the heartbeat.

One daemon thread per process renews every lease the process holds, in one statement, a few times per
lease period, so a live worker keeps its messages through a slow provider call (up to
alerts.sender.SEND_TIMEOUT_S, which may be longer than a lease) or a long wait for the send rate, and a
dead one loses them within one lease period.
"""

import os
import socket
import threading
import time
import uuid

import structlog

from app.db import unit_of_work
from app.message import delivery
from app.settings import get_settings

log = structlog.get_logger(__name__)
BEATS_PER_LEASE = 3
_state: dict[int, str] = {}  # pid -> holder; a forked child gets a name (and a heartbeat) of its own
_lock = threading.Lock()


def lease_s() -> float:
    """How long a claim holds without renewal."""
    return float(get_settings().message_lease_s)


def holder() -> str:
    """This process's name on the rows it claims; starts its heartbeat the first time it is asked."""
    pid = os.getpid()
    with _lock:
        if pid not in _state:
            _state[pid] = f"{socket.gethostname()[:40]}:{pid}:{uuid.uuid4().hex[:8]}"
            threading.Thread(target=_beat, args=(_state[pid],), name="lease-heartbeat", daemon=True).start()
        return _state[pid]


def _beat(name: str) -> None:
    """Renew this process's leases until it dies; a failed renewal is logged and tried again."""
    while True:
        time.sleep(lease_s() / BEATS_PER_LEASE)
        try:
            with unit_of_work() as session:
                delivery.renew(session, holder=name, lease_s=lease_s())
        except Exception as exc:  # the heartbeat must outlive a database blip
            log.warning("lease.renew_failed", holder=name, error=str(exc))
