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
# Ids of messages whose send job is on a queue. It lives in Redis beside the queues, so a wipe empties
# both together and the reconciler then sees every pending message as not queued.
QUEUED_MESSAGES = "nvr:queued-messages"
_PENDING = "nvr_pending_jobs"


@dataclass(frozen=True)
class PendingJob:
    """A job to enqueue once the transaction that created its rows has committed."""

    func: str
    args: tuple[Any, ...]
    queue: str
    job_id: str
    delay_s: float | None = None
    marks: tuple[int, ...] = ()  # message ids to record in QUEUED_MESSAGES


@lru_cache
def get_redis(url: str | None = None) -> Redis:
    """One Redis client per URL and process."""
    return Redis.from_url(url or get_settings().redis_url, socket_timeout=10, health_check_interval=30)


def get_queue(name: str, connection: Redis | None = None) -> Queue:
    """An RQ queue on the configured Redis."""
    return Queue(name, connection=connection or get_redis())


def enqueue_after_commit(session: Session, *jobs: PendingJob) -> None:
    """Remember jobs; they are enqueued when `session` commits and forgotten if it rolls back."""
    session.info.setdefault(_PENDING, []).extend(jobs)


def enqueue_all(jobs: list[PendingJob], connection: Redis | None = None) -> None:
    """Enqueue jobs (immediate ones in one round trip per queue); a Redis failure is logged, not raised."""
    redis = connection or get_redis()
    immediate: dict[str, list[PendingJob]] = {}
    try:
        for job in jobs:
            if job.delay_s:
                get_queue(job.queue, redis).enqueue_in(
                    timedelta(seconds=job.delay_s), job.func, *job.args, job_id=job.job_id
                )
            else:
                immediate.setdefault(job.queue, []).append(job)
        for name, batch in immediate.items():
            get_queue(name, redis).enqueue_many(
                [Queue.prepare_data(j.func, args=j.args, job_id=j.job_id) for j in batch]
            )
        marks = [m for job in jobs for m in job.marks]
        if marks:
            redis.sadd(QUEUED_MESSAGES, *marks)
    except RedisError as exc:
        log.error("enqueue failed; the reconciler will retry", jobs=len(jobs), error=str(exc))


def unmark(message_ids: list[int], connection: Redis | None = None) -> None:
    """Forget that these messages are queued (their job has run)."""
    if message_ids:
        (connection or get_redis()).srem(QUEUED_MESSAGES, *message_ids)


def queued_messages(connection: Redis | None = None) -> set[int]:
    """Ids of messages whose send job Redis holds."""
    return {int(m) for m in (connection or get_redis()).smembers(QUEUED_MESSAGES)}


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    enqueue_all(session.info.pop(_PENDING, []))


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
