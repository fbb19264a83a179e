"""Enqueueing background jobs by dotted name, only after the database transaction commits.

The app never imports `workers`: jobs are named by string (app/jobs.py). A job queued inside a
transaction that rolls back is dropped; a job whose enqueue fails after commit is found again by the
reconciler, because the database row it works on is the source of truth.

A send job's id names its messages, so what Redis holds is read from RQ's own queues and scheduled
registries (`messages_waiting`): nothing beside them can go stale when a worker dies or Redis is wiped.
"""

import uuid
from collections.abc import Sequence
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
SIGNUP = "nvr-signup"  # sign-ups' codes and welcomes: a surge of joiners waits behind any emergency
QUEUE_ORDER = (HIGH, DEFAULT, LOW, SIGNUP)
MESSAGES_JOB = "msgs"  # send jobs' id prefix: msgs-<ids>-<random>, ids as runs like 101_120-135
_PENDING = "nvr_pending_jobs"


@dataclass(frozen=True)
class PendingJob:
    """A job to enqueue once the transaction that created its rows has committed."""

    func: str
    args: tuple[Any, ...]
    queue: str
    job_id: str
    delay_s: float | None = None
    at_front: bool = False  # for work taken back from a dead worker: it was at the front already


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
                [Queue.prepare_data(j.func, args=j.args, job_id=j.job_id, at_front=j.at_front) for j in batch]
            )
    except RedisError as exc:
        log.error("enqueue failed; the reconciler will retry", jobs=len(jobs), error=str(exc))


def messages_job_id(message_ids: Sequence[int]) -> str:
    """A send job's id: its message ids as runs of consecutive ids, and a random tail (each is new)."""
    runs: list[list[int]] = []
    for message_id in sorted(message_ids):
        if runs and message_id == runs[-1][-1] + 1:
            runs[-1][1:] = [message_id]
        else:
            runs.append([message_id])
    named = "-".join("_".join(str(i) for i in run) for run in runs)
    return f"{MESSAGES_JOB}-{named}-{uuid.uuid4().hex[:8]}"


def message_ids_in(job_id: str) -> list[int]:
    """The message ids a send job's id names (none for any other job)."""
    parts = job_id.split("-")
    if len(parts) < 3 or parts[0] != MESSAGES_JOB:
        return []
    ids: list[int] = []
    for run in parts[1:-1]:
        first, _, last = run.partition("_")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


def messages_waiting(*, late_after_s: float, connection: Redis | None = None) -> set[int]:
    """Ids of messages whose send job waits on a queue, or is scheduled and not `late_after_s` overdue.

    A job a worker has dequeued is not counted: the worker claims its messages at once, so one still
    pending after that belongs to a worker that died first (or skipped a locked row).
    """
    redis = connection or get_redis()
    queues = [get_queue(name, redis) for name in QUEUE_ORDER]
    pipe = redis.pipeline(transaction=True)
    pipe.time()
    for queue in queues:
        pipe.lrange(queue.key, 0, -1)
    for queue in queues:
        pipe.zrange(queue.scheduled_job_registry.key, 0, -1, withscores=True)
    (seconds, _), *found = pipe.execute()
    waiting = [job_id for ids in found[: len(queues)] for job_id in ids]
    not_late = seconds - late_after_s
    waiting += [job_id for jobs in found[len(queues) :] for job_id, due in jobs if due >= not_late]
    return {m for job_id in waiting for m in message_ids_in(job_id.decode())}


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    enqueue_all(session.info.pop(_PENDING, []))


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
