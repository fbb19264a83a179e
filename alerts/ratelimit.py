"""One send rate shared by every process, kept in Redis (GCRA: generic cell rate algorithm).

A grant may cost several units (an SMS costs its segments, which is what a provider's rate counts)."""

import math
import time

from redis import Redis

# GCRA keeps one number per key, the theoretical arrival time (TAT) of the next request, so the check
# and the update are a single atomic script. Time comes from Redis itself so that every process, on
# any machine, measures against the same clock. Times are integer microseconds (exact in a Lua double).
_GCRA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
tat = tat + cost * interval
local allowed_at = tat - burst * interval
if now < allowed_at then
  return allowed_at - now
end
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
return 0
"""


class RateLimiter:
    """At most rate_per_second units per second across all processes, with bursts of up to burst units."""

    def __init__(self, redis: Redis, *, key: str, rate_per_second: float, burst: int = 1) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._key = key
        self._interval_us = max(1, round(1_000_000 / rate_per_second))
        self._burst = burst
        self._script = redis.register_script(_GCRA)

    def try_acquire(self, cost: int = 1) -> float:
        """Take `cost` units if they are free: 0.0 when granted, else the seconds to wait before asking
        again. A cost above the burst is charged as the burst, so it can ever be granted."""
        if cost < 1:
            raise ValueError("cost must be at least 1")
        units = min(cost, self._burst)
        wait_us = int(self._script(keys=[self._key], args=[self._interval_us, self._burst, units]))
        return wait_us / 1_000_000

    def acquire(self, timeout_s: float, cost: int = 1) -> bool:
        """Wait for `cost` units for up to timeout_s; False when they cannot be had in time."""
        deadline = time.monotonic() + timeout_s
        while True:
            wait = self.try_acquire(cost)
            if wait == 0.0:
                return True
            remaining = deadline - time.monotonic()
            # Give up at once when the slot comes after the deadline: sleeping would only delay the news.
            if wait > remaining:
                return False
            # Another process may take the slot while we sleep; the loop then asks again.
            time.sleep(math.ceil(wait * 1000) / 1000)
