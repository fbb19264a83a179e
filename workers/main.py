"""Worker entry points: RQ workers (with RQ's scheduler for timers and retries) and the reconciler cron."""

import multiprocessing
import os
import signal
import time

import structlog
from rq import SimpleWorker
from rq.cron import CronScheduler

from app.logs import configure_logging
from app.queue import DEFAULT, LOW, QUEUE_ORDER, get_queue, get_redis
from app.settings import get_settings

# Importing the jobs also preloads every module a job needs before the worker takes work.
from workers.jobs import reconcile, refresh_capacity

log = structlog.get_logger(__name__)
MAINTENANCE_EVERY_S = 15


def run_worker(*, burst: bool = False, with_scheduler: bool = True) -> None:
    """One RQ worker on every nvr queue, high priority first, running jobs in-process.

    SimpleWorker (no fork per job) keeps dispatch fast and lets the database pool be reused; a job that
    crashes the process is recovered by the reconciler.
    """
    configure_logging()
    redis = get_redis()
    queues = [get_queue(name, redis) for name in QUEUE_ORDER]
    # Frequent maintenance lets a new worker take over RQ's scheduler soon after one was killed.
    worker = SimpleWorker(queues, connection=redis, maintenance_interval=MAINTENANCE_EVERY_S)
    worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="WARNING")


def run_cron() -> None:
    """Run the reconciler on a fixed interval; the schedule lives in this process, so FLUSHALL keeps it."""
    configure_logging()
    cron = CronScheduler(connection=get_redis(), logging_level="WARNING")
    settings = get_settings()
    cron.register(func=reconcile, queue_name=DEFAULT, interval=settings.reconcile_every_s)
    cron.register(func=refresh_capacity, queue_name=LOW, interval=settings.capacity_refresh_every_s)
    cron.start()


def run(*, processes: int = 1, burst: bool = False, cron: bool = True) -> int:
    """Start `processes` workers and, unless `cron` is False, the reconciler; stop them all on SIGTERM.

    Returns the exit status: 1 when a child died on its own with an error, 0 otherwise.
    """
    if processes == 1 and not cron:
        run_worker(burst=burst)
        return 0
    children = [multiprocessing.Process(target=run_worker, kwargs={"burst": burst}) for _ in range(processes)]
    if cron and not burst:
        children.append(multiprocessing.Process(target=run_cron))
    for child in children:
        child.start()

    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.pid and child.is_alive():
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while any(child.is_alive() for child in children):
        time.sleep(0.5)
    return 0 if stopping or all(child.exitcode == 0 for child in children) else 1
