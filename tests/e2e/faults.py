"""Causing faults on purpose: killing workers, wiping Redis, stopping PostgreSQL."""

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.message.models import Message, MessageKind, MessageStatus
from app.settings import Settings
from tests.conftest import TEST_REDIS_URL

SENT = (MessageStatus.queued, MessageStatus.sent, MessageStatus.delivered)
# Every setting that decides how fast a lost message comes back, and the send rate.
DELIVERY_TIMING = (
    "reconcile_every_s",
    "message_lease_s",
    "sms_rate_per_second",
    "send_backoff_base_s",
    "send_backoff_cap_s",
)


def default_timing() -> dict[str, str]:
    """Environment that puts a worker back on the default delivery timing, undoing the test overrides."""
    return {name.upper(): str(Settings.model_fields[name].default) for name in DELIVERY_TIMING}


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and every process it started, as a crash or an OOM kill would."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def flush_redis() -> None:
    """FLUSHALL: every queue, scheduled job and rate-limit key gone at once."""
    Redis.from_url(TEST_REDIS_URL).flushall()


def pg_cluster() -> list[str]:
    """`pg_ctlcluster` arguments for this machine's PostgreSQL cluster."""
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def postgres(action: str) -> None:
    """Stop or start the local PostgreSQL server."""
    subprocess.run([*pg_cluster(), action], check=True, capture_output=True, timeout=60)


def callups_by_status(live: Session) -> Counter[MessageStatus]:
    """How many call-up messages are in each status, read afresh."""
    live.expire_all()
    rows = live.execute(
        select(Message.status, func.count())
        .where(Message.kind == MessageKind.callup)
        .group_by(Message.status)
    ).all()
    return Counter({status: n for status, n in rows})


def handed_over(live: Session) -> int:
    """Call-ups the provider has accepted."""
    counts = callups_by_status(live)
    return sum(counts[s] for s in SENT)
