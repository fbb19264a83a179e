"""The RQ jobs, importable by dotted path (`workers.jobs.send_message`, ...).

Each job opens its own unit of work, works from ids, and does nothing harmful when run twice or when
its row is gone: the database decides what still needs doing.
"""

import random

import structlog

from alerts.ratelimit import RateLimiter
from alerts.sender import SendError, TransientSendError
from app.callout import service as callouts
from app.db import unit_of_work
from app.incident.service import policy_from
from app.message import delivery
from app.message.sender import get_sender, status_callback_url
from app.queue import get_redis
from app.settings import get_settings
from workers import reconcile as reconciler

log = structlog.get_logger(__name__)
_rng = random.Random()
RATE_KEY = "nvr:sms-rate"
RATE_WAIT_S = 60.0


def rate_limiter() -> RateLimiter:
    """The one send-rate limit shared by every worker, kept in Redis."""
    settings = get_settings()
    burst = max(1, int(settings.sms_rate_per_second))
    return RateLimiter(get_redis(), key=RATE_KEY, rate_per_second=settings.sms_rate_per_second, burst=burst)


def retry_policy() -> delivery.RetryPolicy:
    """Retry settings for transient send failures."""
    settings = get_settings()
    return delivery.RetryPolicy(
        max_attempts=settings.send_max_attempts,
        base_s=settings.send_backoff_base_s,
        cap_s=settings.send_backoff_cap_s,
    )


def send_message(message_id: int) -> str:
    """Send one queued SMS through the configured provider, at most at the global rate."""
    settings = get_settings()
    policy = policy_from(settings)
    if not rate_limiter().acquire(timeout_s=RATE_WAIT_S):
        raise TransientSendError("rate limit wait timed out")  # RQ records it; the reconciler re-queues
    with unit_of_work() as session:
        outgoing = delivery.claim(session, message_id=message_id)
    if outgoing is None:
        return "skipped"
    try:
        result = get_sender().send(
            to=outgoing.to,
            body=outgoing.body,
            status_callback=status_callback_url(settings) if settings.sms_provider == "twilio" else None,
            validity_period_s=settings.sms_validity_seconds,
        )
    except SendError as error:
        with unit_of_work() as session:
            delay = delivery.record_failure(
                session, message_id=message_id, error=error, policy=policy, retry=retry_policy(), rng=_rng
            )
        log.warning("sms.send_failed", message_id=message_id, code=error.code, retry_in_s=delay)
        return "retrying" if delay is not None else "failed"
    with unit_of_work() as session:
        delivery.record_sent(session, message_id=message_id, result=result, policy=policy)
    return result.sid


def run_wave(incident_id: int) -> int:
    """A wave timer fired: call more people for unfilled needs and set the next timer."""
    with unit_of_work() as session:
        return callouts.run_wave(session, incident_id=incident_id, policy=policy_from(get_settings()))


def reconcile() -> dict[str, int]:
    """Re-queue whatever the database says should be queued and is not (Redis may have been wiped)."""
    return reconciler.reconcile(stuck_after_s=get_settings().sending_stuck_after_s)
