import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest
from redis import Redis

from alerts.ratelimit import RateLimiter
from tests.conftest import TEST_REDIS_URL


def test_burst_is_granted_at_once_then_the_wait_is_one_interval(redis_db):
    limiter = RateLimiter(redis_db, key="nvr:test:burst", rate_per_second=2, burst=3)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire()
    assert 0.4 < wait <= 0.5  # one emission interval at 2/s, less the time since the first grant


def test_a_refused_try_takes_no_slot(redis_db):
    limiter = RateLimiter(redis_db, key="nvr:test:refused", rate_per_second=1)
    assert limiter.try_acquire() == 0.0
    first = limiter.try_acquire()
    second = limiter.try_acquire()
    assert first > 0 and second > 0
    assert second <= first  # asking again did not push the next slot further out


def test_keys_are_independent(redis_db):
    one = RateLimiter(redis_db, key="nvr:test:one", rate_per_second=1)
    two = RateLimiter(redis_db, key="nvr:test:two", rate_per_second=1)
    assert one.try_acquire() == 0.0
    assert two.try_acquire() == 0.0
    assert one.try_acquire() > 0


def test_state_expires_when_idle(redis_db):
    limiter = RateLimiter(redis_db, key="nvr:test:ttl", rate_per_second=10)
    limiter.try_acquire()
    ttl_ms = redis_db.pttl("nvr:test:ttl")
    assert 0 < ttl_ms <= 101


def test_acquire_waits_for_the_slot(redis_db):
    limiter = RateLimiter(redis_db, key="nvr:test:wait", rate_per_second=5)
    assert limiter.acquire(timeout_s=1.0)
    started = time.monotonic()
    assert limiter.acquire(timeout_s=1.0)
    assert time.monotonic() - started >= 0.15  # the second slot is 200 ms after the first


def test_acquire_gives_up_when_the_slot_is_past_the_timeout(redis_db):
    limiter = RateLimiter(redis_db, key="nvr:test:timeout", rate_per_second=0.5)
    assert limiter.acquire(timeout_s=0.1)
    started = time.monotonic()
    assert not limiter.acquire(timeout_s=0.2)
    assert time.monotonic() - started < 0.1  # it knew at once that 2 s is too long to wait


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_bad_settings_are_refused(redis_db, rate, burst):
    with pytest.raises(ValueError):
        RateLimiter(redis_db, key="nvr:test:bad", rate_per_second=rate, burst=burst)


def acquire_between(key: str, rate: float, start: float, end: float) -> int:
    """Grab as many slots as possible in [start, end) of wall-clock time; for threads and processes."""
    limiter = RateLimiter(Redis.from_url(TEST_REDIS_URL), key=key, rate_per_second=rate)
    time.sleep(max(0.0, start - time.time()))
    granted = 0
    while (remaining := end - time.time()) > 0:
        if limiter.acquire(timeout_s=remaining):
            granted += 1
    return granted


def test_threads_share_the_rate(redis_db):
    start = time.time() + 0.1
    counts: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        granted = acquire_between("nvr:test:threads", 20, start, start + 1.0)
        with lock:
            counts.append(granted)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 15 <= sum(counts) <= 25  # 20/s for 1 s, however many threads compete


def test_processes_share_the_rate(redis_db):
    with ProcessPoolExecutor(max_workers=3, mp_context=get_context("spawn")) as pool:
        # Warm the workers (interpreter and imports) so all three compete over the same second.
        warm_end = time.time() + 0.5
        list(pool.map(acquire_between, ["nvr:test:warm"] * 3, [1000] * 3, [0] * 3, [warm_end] * 3))
        start = time.time() + 0.2
        futures = [
            pool.submit(acquire_between, "nvr:test:processes", 20, start, start + 1.0) for _ in range(3)
        ]
        counts = [future.result() for future in futures]
    assert 15 <= sum(counts) <= 25
    assert sum(1 for count in counts if count > 0) >= 2  # the processes really competed


def test_a_grant_costs_its_units_so_segments_count_against_the_rate(redis_db):
    limiter = RateLimiter(redis_db, key="nvr:test:cost", rate_per_second=10, burst=10)
    assert limiter.try_acquire(cost=4) == 0.0  # a four-segment SMS
    assert limiter.try_acquire(cost=6) == 0.0  # the burst is spent: 10 units
    wait = limiter.try_acquire(cost=3)
    assert 0.25 < wait <= 0.3  # three units at 10/s, less the time since the first grant
    assert limiter.try_acquire(cost=1) > 0  # and no unit was taken by the refusal


def test_a_cost_above_the_burst_is_charged_as_the_burst_and_can_be_granted(redis_db):
    limiter = RateLimiter(redis_db, key="nvr:test:big", rate_per_second=2, burst=2)
    assert limiter.try_acquire(cost=5) == 0.0
    assert 0.4 < limiter.try_acquire(cost=1) <= 0.5  # two units were charged (five would wait 2 s)
    with pytest.raises(ValueError, match="cost"):
        limiter.try_acquire(cost=0)
