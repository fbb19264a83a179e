"""What follows a stored webhook: its consequences, right after the 2xx, exactly once, never lost.

A webhook stores what it brought in one short transaction and answers. The consequences (accepting,
filling, standing down, answering by SMS; applying receipts) then run on a worker, queued by dotted
name after that commit. If the process dies in between, or Redis loses the job, what was stored is
still in the database (`inbound_pending`, unapplied `receipts`) and `recover` queues it again.
"""

import uuid
from datetime import UTC, datetime, timedelta

import structlog
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.callout.dispatch import apply_stored_receipts
from app.jobs import APPLY_RECEIPTS, PROCESS_INBOUND
from app.message.models import Message, Receipt
from app.queue import HIGH, PendingJob, enqueue_after_commit, enqueue_all, get_redis
from app.webhook.models import InboundPending
from app.webhook.service import process_oldest

log = structlog.get_logger(__name__)

# Set while such a job is queued and not yet started: a burst of webhooks queues one job, not one each.
INBOUND_QUEUED = "nvr:inbound-job-queued"
RECEIPTS_QUEUED = "nvr:receipts-job-queued"
FLAG_TTL_S = 5  # a flag whose job was lost (Redis wiped, worker gone) stops blocking new jobs
RECEIPT_BATCH = 200
RECOVER_AFTER = timedelta(seconds=5)


def _schedule(flag: str, job: str) -> None:
    """Queue one job, unless one is already queued and not yet started (a burst queues one job)."""
    try:
        if not get_redis().set(flag, 1, nx=True, ex=FLAG_TTL_S):
            return
    except RedisError as exc:
        log.error("job not queued; the reconciler will", job=job, error=str(exc))
        return
    # At the front: a reply must not wait behind a wave's worth of call-ups still being sent.
    job_id = f"{job.rsplit('.', 1)[1]}-{uuid.uuid4().hex[:12]}"
    enqueue_all([PendingJob(job, (), HIGH, job_id, at_front=True)])


def schedule_inbound() -> None:
    """Queue a job that acts on every stored inbound SMS."""
    _schedule(INBOUND_QUEUED, PROCESS_INBOUND)


def schedule_receipts() -> None:
    """Queue a job that applies every stored receipt whose message we know."""
    _schedule(RECEIPTS_QUEUED, APPLY_RECEIPTS)


def job_started(flag: str) -> None:
    """A job runs now: what is stored from here on needs a job of its own."""
    get_redis().delete(flag)


def act_on_stored(session: Session) -> int:
    """Act on every stored inbound SMS, each in its own commit; returns how many."""
    done = 0
    while process_oldest(session):
        session.commit()
        done += 1
    return done


def apply_receipt_batch(session: Session, *, limit: int = RECEIPT_BATCH) -> int:
    """Apply the stored receipts of up to `limit` messages (skipping messages another worker holds)."""
    unapplied = (
        select(Message.id)
        .join(Receipt, Receipt.provider_sid == Message.provider_sid)
        .where(Receipt.applied.is_(False))
        .limit(limit)
    )
    messages = session.scalars(
        select(Message)
        .where(Message.id.in_(unapplied))
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    ).all()
    for message in messages:
        apply_stored_receipts(session, message=message)
    session.flush()
    return len(messages)


def recover(session: Session) -> dict[str, int]:
    """Queue again whatever was stored and not acted on within RECOVER_AFTER (lost job, dead process)."""
    since = func.now() - RECOVER_AFTER  # the database's clock, as every lease and timer
    inbound = session.scalar(
        select(func.count()).select_from(InboundPending).where(InboundPending.received_at < since)
    )
    receipts = session.scalar(
        select(func.count())
        .select_from(Receipt)
        .join(Message, Message.provider_sid == Receipt.provider_sid)
        .where(Receipt.applied.is_(False), Receipt.received_at < since)
    )
    tag = int(datetime.now(UTC).timestamp())
    if inbound:
        enqueue_after_commit(
            session, PendingJob(PROCESS_INBOUND, (), HIGH, f"process_inbound-r{tag}", at_front=True)
        )
    if receipts:
        enqueue_after_commit(
            session, PendingJob(APPLY_RECEIPTS, (), HIGH, f"apply_receipts-r{tag}", at_front=True)
        )
    return {"inbound": inbound or 0, "receipts": receipts or 0}
