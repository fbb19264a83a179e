"""The reconciler: the database is the source of truth and Redis only a queue that may be wiped.

Each pass takes back messages whose lease ran out (their worker died), finds pending messages no queue
holds (Redis wiped, an enqueue that failed after commit, a job whose worker died before claiming it, a
row a claim skipped as locked, a retry the scheduler is late with) and queues both again at the front,
and runs overdue wave timers itself; it also puts every welfare check unanswered past WELFARE_TIMEOUT_S
in the coordinators' inbox (once each: the database says which are already there), ends the
volunteers' pauses that have run out, deletes sign-ups never verified within a day, and keeps the
reserve alive (expiry reminders, the yearly availability check, marking inactive those who never
answered it: at most once a minute, in the UK daytime, a batch at a time, so a backlog never crowds the
send queue). What Redis holds
is read from RQ's own queues before the database, so a message waiting behind the send rate is never
queued twice, however many wait; a message must be
found unheld by two passes in a row, so one whose job a live worker dequeued and is just claiming is not
queued again either. It runs in its own process (`nvr worker`'s cron), so a busy queue cannot starve
it; an advisory lock makes one pass at a time across every worker.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from redis import Redis
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.badge import service as badges
from app.callout import service as callouts
from app.db import get_engine, unit_of_work
from app.inbox import service as inbox
from app.incident.models import Incident, IncidentStatus
from app.message import delivery
from app.message.models import Direction, Message, MessageKind, MessageStatus
from app.message.service import send_jobs
from app.metrics import LEASES_TAKEN_BACK
from app.queue import enqueue_all, messages_waiting
from app.settings import get_settings
from app.signup import service as signups
from app.upkeep import service as upkeep
from app.webhook import self_service
from app.webhook import signature as webhook_signature
from workers.inbound import recover as recover_stored_webhooks

log = structlog.get_logger(__name__)

# A message younger than this may still be on its way to a queue (jobs are enqueued after commit).
PENDING_GRACE = timedelta(seconds=3)
# A wave timer normally fires from RQ's scheduler; the reconciler runs one this late itself.
WAVE_GRACE = timedelta(seconds=3)
LOCK_KEY = 0x6E7672_01  # pg advisory lock: one reconciler pass at a time
# Reminders and checks are information, not emergencies: a batch a minute drains a backlog in the day
# without queueing thousands in front of the stand-downs that share their queue.
UPKEEP_EVERY_S = 60.0
UPKEEP_PASSES: dict[str, Callable[[Session], int]] = {
    "expiry_reminders": upkeep.send_expiry_reminders,
    "availability_asked": upkeep.ask_availability,
    "marked_inactive": upkeep.mark_unanswered_inactive,
    "badges_lapsed": badges.revoke_lapsed,
}


@dataclass
class Reconciler:
    """The reconciler of one process; it remembers which messages the last pass found unheld."""

    redis: Redis | None = None
    suspects: set[int] = field(default_factory=set)
    upkeep_at: float = 0.0  # time.monotonic() of this process's next upkeep pass

    def run(self) -> dict[str, int]:
        """One pass, unless another reconciler is in one; returns how many of each thing it did."""
        with get_engine().connect() as lock:
            if not lock.scalar(select(func.pg_try_advisory_lock(LOCK_KEY))):
                return {"busy": 1}
            try:
                return {
                    **self.requeue_lost(),
                    "waves": run_overdue_waves(),
                    "welfare": flag_unanswered_welfare(),
                    "pauses_ended": resume_due_pauses(),
                    "signups_deleted": delete_stale_signups(),
                    "signatures_forgotten": forget_old_signatures(),
                    **self.upkeep(),
                    **recover_stored_webhooks(),
                }
            finally:
                lock.execute(select(func.pg_advisory_unlock(LOCK_KEY)))
                lock.commit()

    def upkeep(self, *, now: datetime | None = None) -> dict[str, int]:
        """The reserve's upkeep passes, each in its own transaction, at most every UPKEEP_EVERY_S and
        only in the UK daytime (all zero otherwise)."""
        moment = time.monotonic()
        if moment < self.upkeep_at or not upkeep.in_upkeep_hours(now or datetime.now(UTC)):
            return dict.fromkeys(UPKEEP_PASSES, 0)
        self.upkeep_at = moment + UPKEEP_EVERY_S
        done = {}
        for name, step in UPKEEP_PASSES.items():
            with unit_of_work() as session:
                done[name] = step(session)
        return done

    def requeue_lost(self) -> dict[str, int]:
        """Take back expired leases, and queue them with the messages no queue held twice, at the front."""
        waiting = messages_waiting(late_after_s=PENDING_GRACE.total_seconds(), connection=self.redis)
        with unit_of_work() as session:
            taken_back = delivery.take_back_expired(session)
            LEASES_TAKEN_BACK.inc(len(taken_back))
            unheld = [(i, kind) for i, kind in pending_due(session) if i not in waiting]
        lost = [(i, kind) for i, kind in unheld if i in self.suspects]
        self.suspects = {i for i, _ in unheld} - {i for i, _ in lost}
        enqueue_all(send_jobs([*taken_back, *lost], at_front=True), connection=self.redis)
        return {"taken_back": len(taken_back), "requeued": len(taken_back) + len(lost)}


def pending_due(session: Session) -> Sequence[tuple[int, MessageKind]]:
    """Outbound messages pending beyond the grace period and due now (on the database's clock)."""
    settled = func.now() - PENDING_GRACE
    rows = session.execute(
        select(Message.id, Message.kind).where(
            Message.status == MessageStatus.pending,
            Message.direction == Direction.outbound,
            Message.updated_at < settled,
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at < settled),
        )
    ).all()
    return [(i, kind) for i, kind in rows]


def run_overdue_waves() -> int:
    """Run every wave timer overdue by WAVE_GRACE here and now; each in its own transaction."""
    with unit_of_work() as session:
        overdue = session.scalars(
            select(Incident.id).where(
                Incident.status == IncidentStatus.open,
                Incident.next_wave_at.is_not(None),
                Incident.next_wave_at < func.now() - WAVE_GRACE,
            )
        ).all()
    for incident_id in overdue:
        try:
            with unit_of_work() as session:
                callouts.run_wave(session, incident_id=incident_id)
        except Exception as exc:  # one failing incident must not hold up the others
            log.error("reconcile.wave_failed", incident_id=incident_id, error=str(exc))
    return len(overdue)


def resume_due_pauses() -> int:
    """Volunteers whose PAUSE 7D (or UNTIL a day) has run out are active again, and told so."""
    with unit_of_work() as session:
        return self_service.resume_due_pauses(session)


def delete_stale_signups() -> int:
    """Sign-ups never verified within a day go, with their personal data and codes."""
    with unit_of_work() as session:
        return signups.delete_stale(session)


def forget_old_signatures() -> int:
    """Webhook signatures past their replay window go (app/webhook/signature.py)."""
    with unit_of_work() as session:
        return webhook_signature.forget_old(session)


def flag_unanswered_welfare() -> int:
    """Inbox items for welfare checks unanswered past the timeout; idempotent, the database decides."""
    with unit_of_work() as session:
        return inbox.flag_unanswered_welfare(session, timeout_s=get_settings().welfare_timeout_s)
