"""The reconciler: the database is the source of truth and Redis only a queue that may be wiped.

It finds messages that should be on a queue (pending and due, or stuck `sending` after a worker died)
and incidents whose wave timer is overdue, and queues them again. Jobs are idempotent, so queueing
something that was in fact still queued costs one no-op run.
"""

from datetime import UTC, datetime, timedelta

from rq.job import Job, JobStatus
from sqlalchemy import and_, or_, select, update

from app.db import unit_of_work
from app.incident.models import Incident, IncidentStatus
from app.message.models import Direction, Message, MessageStatus
from app.message.service import queue_for, send_job_id
from app.queue import DEFAULT, PendingJob, enqueue_now, get_redis

PENDING_GRACE = timedelta(seconds=5)
WAVE_GRACE = timedelta(seconds=5)
BATCH = 5000


def reconcile(*, stuck_after_s: float) -> dict[str, int]:
    """One pass; returns how many of each thing it queued again.

    A message still `sending` after `stuck_after_s` belongs to a worker that died mid-send: it goes
    back to pending and is sent again (the provider may already have it: the one duplicate window).
    """
    now = datetime.now(UTC)
    with unit_of_work() as session:
        unstuck = session.execute(
            update(Message)
            .where(
                Message.status == MessageStatus.sending,
                Message.updated_at < now - timedelta(seconds=stuck_after_s),
            )
            .values(status=MessageStatus.pending)
            .returning(Message.id)
        ).all()
        due = session.execute(
            select(Message.id, Message.kind, Message.attempts)
            .where(
                Message.status == MessageStatus.pending,
                Message.direction == Direction.outbound,
                or_(
                    and_(Message.next_attempt_at.is_(None), Message.updated_at < now - PENDING_GRACE),
                    Message.next_attempt_at < now - PENDING_GRACE,
                ),
            )
            .order_by(Message.id)
            .limit(BATCH)
        ).all()
        overdue = session.scalars(
            select(Incident.id).where(
                Incident.status == IncidentStatus.open,
                Incident.next_wave_at.is_not(None),
                Incident.next_wave_at < now - WAVE_GRACE,
            )
        ).all()
    jobs = [
        PendingJob(
            "workers.jobs.send_message",
            (message_id,),
            queue_for(kind),
            send_job_id(message_id, attempts),
            None,
        )
        for message_id, kind, attempts in due
    ]
    jobs += [PendingJob("workers.jobs.run_wave", (i,), DEFAULT, f"wave-{i}-late", None) for i in overdue]
    missing = _not_queued(jobs)
    for job in missing:
        enqueue_now(job)
    return {
        "unstuck": len(unstuck),
        "messages": sum(1 for j in missing if j.func.endswith("send_message")),
        "waves": sum(1 for j in missing if j.func.endswith("run_wave")),
    }


# SCHEDULED is not live here: every job reconcile looks at is already overdue, so a scheduled one means
# RQ's scheduler is late (its lock still held by a worker that was killed) and the job is queued now.
LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED}


def _not_queued(jobs: list[PendingJob]) -> list[PendingJob]:
    """The jobs that Redis does not hold alive (never queued, wiped, failed in RQ, or overdue)."""
    if not jobs:
        return []
    found = Job.fetch_many([j.job_id for j in jobs], connection=get_redis())
    return [
        job
        for job, rq_job in zip(jobs, found, strict=True)
        if rq_job is None or rq_job.get_status(refresh=False) not in LIVE
    ]
