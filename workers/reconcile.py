"""The reconciler: the database is the source of truth and Redis only a queue that may be wiped.

It finds messages that should be on a queue and are not (pending but absent from the queued-messages
set that lives beside the queues, overdue retries, or stuck `sending` after a worker died) and
incidents whose wave timer is overdue, and queues them again. Jobs are idempotent, so queueing
something that was in fact still queued costs one no-op run.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.callout.service import WAVE_JOB
from app.db import unit_of_work
from app.incident.models import Incident, IncidentStatus
from app.message.models import Direction, Message, MessageStatus
from app.message.service import send_jobs
from app.queue import DEFAULT, PendingJob, enqueue_all, queued_messages
from workers.inbound import recover as recover_stored_webhooks

PENDING_GRACE = timedelta(seconds=5)
WAVE_GRACE = timedelta(seconds=5)


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
            .values(status=MessageStatus.pending, next_attempt_at=None)
            .returning(Message.id, Message.kind)
        ).all()
        waiting = session.execute(
            select(Message.id, Message.kind).where(
                Message.status == MessageStatus.pending,
                Message.direction == Direction.outbound,
                Message.next_attempt_at.is_(None),
                Message.updated_at < now - PENDING_GRACE,
            )
        ).all()
        # Retries are timed by RQ's scheduler; one this late means the scheduler lost it (or its lock).
        late_retries = session.execute(
            select(Message.id, Message.kind).where(
                Message.status == MessageStatus.pending,
                Message.next_attempt_at < now - PENDING_GRACE,
            )
        ).all()
        overdue_waves = session.scalars(
            select(Incident.id).where(
                Incident.status == IncidentStatus.open,
                Incident.next_wave_at.is_not(None),
                Incident.next_wave_at < now - WAVE_GRACE,
            )
        ).all()
    queued = queued_messages()
    lost = [(i, kind) for i, kind in waiting if i not in queued]
    again = [*unstuck, *lost, *late_retries]
    jobs = send_jobs([(i, kind) for i, kind in again])
    jobs += [
        PendingJob(WAVE_JOB, (i,), DEFAULT, f"wave-{i}-late-{int(now.timestamp())}") for i in overdue_waves
    ]
    enqueue_all(jobs)
    recover_stored_webhooks()
    return {"unstuck": len(unstuck), "messages": len(again), "waves": len(overdue_waves)}
