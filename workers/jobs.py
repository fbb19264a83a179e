"""The RQ jobs, importable by the dotted paths app/jobs.py names (`workers.jobs.send_messages`, ...).

Each job opens its own unit of work, works from ids, and does nothing harmful when run twice or when
its row is gone: the database decides what still needs doing.
"""

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import structlog

from alerts.pool import Slot
from alerts.ratelimit import RateLimiter
from alerts.segments import count_segments
from alerts.sender import SendError, TransientSendError
from app.callout import dispatch
from app.callout import service as callouts
from app.db import unit_of_work
from app.map import capacity
from app.message import delivery, retry
from app.message.sender import get_sender, sender_pool, status_callback_url
from app.metrics import SEND_FAILURES
from app.queue import get_redis
from app.settings import get_settings
from workers import lease
from workers.faults import crash_point, crash_soon

log = structlog.get_logger(__name__)
_rng = random.Random()
RATE_KEY = "nvr:sms-rate"
RATE_WAIT_S = 60.0
SEND_THREADS = 8
LEASE_SAFE_SHARE = 0.8  # of a lease confirmed just now, the part surely still ours on any clock


def rate_limiter(slot: Slot, rate: float) -> RateLimiter:
    """One sender's send-rate limit (or the pool's), `rate` segments a second shared by every worker,
    kept in Redis; its burst is one second's worth."""
    return RateLimiter(
        get_redis(), key=f"{RATE_KEY}:{slot.key}", rate_per_second=rate, burst=max(1, int(rate))
    )


def send_messages(message_ids: list[int]) -> dict[str, int]:
    """Send a batch of queued SMS, several at once, each at most at its sender's rate.

    Claimed messages are leased to this process (its heartbeat renews them); each lease is confirmed
    before its provider call (within most of a lease of it) and the answer is recorded in its own short
    transaction, so a worker killed mid-batch can leave at most SEND_THREADS messages sent but
    unrecorded. Messages this job does not claim (gone, not due, locked) are left to the reconciler.
    """
    crash_point("after_dequeue")
    with unit_of_work() as session:
        claimed = dispatch.claim(
            session, message_ids=message_ids, holder=lease.holder(), lease_s=lease.lease_s()
        )
    crash_point("after_claim")
    with ThreadPoolExecutor(max_workers=SEND_THREADS) as pool:
        outcomes = Counter(pool.map(send_one, claimed))
    return dict(outcomes)


def send_one(outgoing: delivery.Outgoing) -> str:
    """Hand one claimed message to the provider and record what it said."""
    settings = get_settings()
    pool = sender_pool(settings)
    slot = pool.slot_for(outgoing.to)
    segments = count_segments(outgoing.body).segments  # the provider's rate counts segments
    confirmed = time.monotonic()
    if not confirm_lease(outgoing):
        return "skipped"
    # The slot is taken last, just before the provider call, so the provider sees our pace: a database
    # round trip between the two would let grants spread over a second arrive within less.
    if not rate_limiter(slot, pool.slot_rate).acquire(timeout_s=RATE_WAIT_S, cost=segments):
        record_failure(outgoing, TransientSendError("send-rate limit wait timed out"))
        return "rate-limited"
    # The confirmed lease runs a full lease from then (the heartbeat extends it); only after a wait
    # near that long could the reconciler have taken it back, so only then is it confirmed again.
    if time.monotonic() - confirmed > lease.lease_s() * LEASE_SAFE_SHARE and not confirm_lease(outgoing):
        return "skipped"
    crash_soon("mid_send")
    try:
        result = get_sender().send(
            to=outgoing.to,
            body=outgoing.body,
            status_callback=status_callback_url(settings) if settings.sms_provider == "twilio" else None,
            validity_period_s=settings.sms_validity_seconds,
            from_number=slot.from_number,
        )
    except SendError as failure:
        SEND_FAILURES.labels(str(failure.code) if failure.code is not None else "none").inc()
        delay = record_failure(outgoing, failure)
        log.warning("sms.send_failed", message_id=outgoing.message_id, code=failure.code, retry_in_s=delay)
        return "retrying" if delay is not None else "failed"
    crash_point("after_accept")
    with unit_of_work() as session:
        dispatch.record_sent(session, message_id=outgoing.message_id, result=result)
    return "sent"


def confirm_lease(outgoing: delivery.Outgoing) -> bool:
    """Confirm and renew this process's lease of a message; False when the reconciler took it back."""
    with unit_of_work() as session:
        return delivery.start(
            session, message_id=outgoing.message_id, holder=lease.holder(), lease_s=lease.lease_s()
        )


def record_failure(outgoing: delivery.Outgoing, error: SendError) -> float | None:
    """Record a failed send in its own transaction; the retry delay, or None when it failed for good."""
    with unit_of_work() as session:
        return dispatch.record_failure(
            session,
            message_id=outgoing.message_id,
            holder=lease.holder(),
            error=error,
            retry=retry.from_settings(get_settings()),
            rng=_rng,
        )


def run_wave(incident_id: int) -> int:
    """A wave timer fired: call more people for unfilled needs and set the next timer."""
    with unit_of_work() as session:
        return callouts.run_wave(session, incident_id=incident_id)


def refresh_capacity() -> int:
    """Recount the capacity map's cells from the reserve; returns how many cells it holds."""
    with unit_of_work() as session:
        return capacity.refresh_capacity(session).cells
