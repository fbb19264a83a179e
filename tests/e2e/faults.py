"""Causing faults on purpose: killing workers, wiping Redis, stopping PostgreSQL."""

import os
import signal
import subprocess
from pathlib import Path

from redis import Redis

from tests.conftest import TEST_REDIS_URL


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
