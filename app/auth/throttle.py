"""Counting events per client in fixed windows: failed authentications (to slow down anyone trying
tokens) and sign-ups (so one address cannot fill the code queue).

The counter lives in Redis, so every API process shares it and a restart keeps it. Redis is only a queue
that may be wiped: losing a count merely gives a guesser a fresh window. When Redis does not answer, each
process counts on its own for a while instead, so the API keeps working and guessing stays throttled.
"""

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import structlog
from redis import Redis
from redis.exceptions import RedisError

from app.settings import get_settings

log = structlog.get_logger(__name__)

FAILURE_LIMIT = 10  # failed attempts a client may make per window; the next request gets a 429
WINDOW_S = 60
REDIS_TIMEOUT_S = 0.25  # a throttle must never make a request wait long
REDIS_RETRY_AFTER_S = 5.0  # after Redis fails, count locally this long before asking it again
LOCAL_MAX_CLIENTS = 10_000  # bound the local table's memory; expired windows are dropped first
KEY = "nvr:auth-failures:{}"
SIGNUP_KEY = "nvr:signups:{}"


@dataclass
class _Window:
    failures: int
    ends_at: float  # time.monotonic()


class WindowCounter:
    """Events per client in fixed windows, in Redis or, while it is down, in memory."""

    def __init__(
        self, redis: Redis, *, limit: int = FAILURE_LIMIT, window_s: int = WINDOW_S, key: str = KEY
    ) -> None:
        self.redis = redis
        self.key = key
        self.limit = limit
        self.window_s = window_s
        self._lock = threading.Lock()
        self._local: dict[str, _Window] = {}
        self._redis_down_until = 0.0

    def blocked_for(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it has not reached the limit."""
        failures, left = self._read(client)
        return max(1, left) if failures >= self.limit else None

    def add(self, client: str) -> int:
        """Count one event of `client`; the number of events in its current window."""
        if self._redis_usable():
            try:
                key = self.key.format(client)
                pipe = self.redis.pipeline()
                pipe.set(key, 0, ex=self.window_s, nx=True)
                pipe.incr(key)
                return int(pipe.execute()[1])
            except RedisError as exc:
                self._redis_failed(exc)
        with self._lock:
            window = self._local_window(client)
            window.failures += 1
            return window.failures

    def add_many(self, clients: Sequence[str]) -> list[int]:
        """`add` for many events in one round trip: each one's count in its window, in order."""
        if self._redis_usable():
            try:
                pipe = self.redis.pipeline()
                for client in clients:
                    key = self.key.format(client)
                    pipe.set(key, 0, ex=self.window_s, nx=True)
                    pipe.incr(key)
                return [int(n) for n in pipe.execute()[1::2]]
            except RedisError as exc:
                self._redis_failed(exc)
        return [self.add(client) for client in clients]

    def _read(self, client: str) -> tuple[int, int]:
        if self._redis_usable():
            try:
                pipe = self.redis.pipeline()
                pipe.get(self.key.format(client))
                pipe.ttl(self.key.format(client))
                failures, ttl = pipe.execute()
                return int(failures or 0), int(ttl)
            except RedisError as exc:
                self._redis_failed(exc)
        with self._lock:
            window = self._local_window(client)
            return window.failures, int(window.ends_at - time.monotonic())

    def _local_window(self, client: str) -> _Window:
        now = time.monotonic()
        window = self._local.get(client)
        if window is None or window.ends_at <= now:
            if len(self._local) >= LOCAL_MAX_CLIENTS:
                self._local = {c: w for c, w in self._local.items() if w.ends_at > now}
                while len(self._local) >= LOCAL_MAX_CLIENTS:
                    self._local.pop(next(iter(self._local)))
            window = self._local[client] = _Window(failures=0, ends_at=now + self.window_s)
        return window

    def _redis_usable(self) -> bool:
        return time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: RedisError) -> None:
        if self._redis_usable():
            log.warning("auth.throttle_redis_unavailable", error=str(exc), retry_in_s=REDIS_RETRY_AFTER_S)
        self._redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_S


def _redis() -> Redis:
    return Redis.from_url(
        get_settings().redis_url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )


@lru_cache
def failure_counter() -> WindowCounter:
    """This process's counter of failed authentications, on the configured Redis with short timeouts."""
    return WindowCounter(_redis())


@lru_cache
def signup_counter() -> WindowCounter:
    """This process's counter of sign-ups per client address (settings.signups_per_client per window)."""
    settings = get_settings()
    return WindowCounter(
        _redis(), limit=settings.signups_per_client, window_s=settings.signup_window_s, key=SIGNUP_KEY
    )
