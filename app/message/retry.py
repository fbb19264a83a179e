"""When a failed send is tried again: which failures, how many times, and how long to wait.

The sender says whether the provider's refusal may pass (alerts.sender.classify raises
TransientSendError or PermanentSendError); this module decides what follows, within the limits
SEND_MAX_ATTEMPTS, SEND_BACKOFF_BASE_S and SEND_BACKOFF_CAP_S.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.sender import SendError, TransientSendError
from app.settings import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    max_attempts: int = 5
    base_s: float = 2.0
    cap_s: float = 120.0


def from_settings(settings: Settings) -> RetryPolicy:
    """The retry policy this deployment is configured with."""
    return RetryPolicy(
        max_attempts=settings.send_max_attempts,
        base_s=settings.send_backoff_base_s,
        cap_s=settings.send_backoff_cap_s,
    )


def backoff_s(attempt: int, retry_after: float | None, retry: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with jitter, bounded, never sooner than the provider asked."""
    delay = min(retry.cap_s, retry.base_s * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.5)
    return max(delay, retry_after or 0.0)


def retry_delay_s(error: SendError, *, attempts: int, retry: RetryPolicy, rng: random.Random) -> float | None:
    """Seconds to wait before trying again, or None: the failure is permanent or the attempts are spent."""
    if not isinstance(error, TransientSendError) or attempts >= retry.max_attempts:
        return None
    return backoff_s(attempts, error.retry_after, retry, rng)


def next_attempt_at(now: datetime, delay_s: float) -> datetime:
    """When a message waiting `delay_s` is due again."""
    return now + timedelta(seconds=delay_s)
