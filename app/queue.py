"""Enqueueing background jobs by dotted name, only after the database transaction commits.

The app never imports `workers`: jobs are named by string. A job queued inside a transaction that rolls
back is dropped; a job whose enqueue fails after commit is found again by the reconciler, because the
database row it works on is the source of truth.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import structlog
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.settings import get_settings

log = structlog.get_logger(__name__)

HIGH = "nvr-high"
LOW = "nvr-low"
DEFAULT = "nvr-default"
QUEUE_ORDER = (HIGH, DEFAULT, LOW)
_PENDING = "nvr_pending_jobs"


@dataclass(frozen=True)
class PendingJob:
    """A job to enqueue once the transaction that created its rows has committed."""

    func: str
    args: tuple[Any, ...]
    queue: str
    job_id: str
    delay_s: float | None


@lru_cache
def get_redis(url: str | None = None) -> Redis:
    """One Redis client per URL and process."""
    return Redis.from_url(url or get_settings().redis_url, socket_timeout=10, health_check_interval=30)


def get_queue(name: str, connection: Redis | None = None) -> Queue:
    """An RQ queue on the configured Redis."""
    return Queue(name, connection=connection or get_redis())


def enqueue_after_commit(
    session: Session,
    func: str,
    *args: Any,
    queue: str = DEFAULT,
    job_id: str,
    delay_s: float | None = None,
) -> None:
    """Remember a job; it is enqueued when `session` commits and forgotten if it rolls back."""
    session.info.setdefault(_PENDING, []).append(PendingJob(func, args, queue, job_id, delay_s))


def enqueue_now(job: PendingJob, connection: Redis | None = None) -> bool:
    """Put one job on its queue; False (and a log line) when Redis is unreachable."""
    queue = get_queue(job.queue, connection)
    try:
        if job.delay_s:
            queue.enqueue_in(timedelta(seconds=job.delay_s), job.func, *job.args, job_id=job.job_id)
        else:
            queue.enqueue(job.func, *job.args, job_id=job.job_id)
    except RedisError as exc:
        log.error("enqueue failed; the reconciler will retry", job_id=job.job_id, error=str(exc))
        return False
    return True


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    for job in session.info.pop(_PENDING, []):
        enqueue_now(job)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
