"""Worker entry points: RQ workers (with RQ's scheduler for timers and retries) and the reconciler cron."""

import multiprocessing
import os
import signal
import time
from typing import Any

import structlog
from prometheus_client import start_http_server
from rq import Queue, SimpleWorker
from rq.executions import Execution
from rq.job import Job

# Importing the jobs preloads every module a job needs before the worker takes work.
import workers.jobs  # noqa: F401
from app.jobs import REFRESH_CAPACITY
from app.logs import configure_logging, format_exception
from app.metrics import process_registry
from app.queue import LOW, QUEUE_ORDER, PendingJob, enqueue_all, get_queue, get_redis
from app.settings import get_settings
from workers.reconcile import Reconciler

log = structlog.get_logger(__name__)
MAINTENANCE_EVERY_S = 15


class Worker(SimpleWorker):
    """RQ's SimpleWorker, but a failed job's traceback kept in Redis is redacted like our logs.

    RQ stores the formatted traceback with the failed job (failed-job registry, job results), and an
    exception's message can quote a volunteer's row (PostgreSQL's "Key (phone)=(...) already exists").
    Types, frames and PostgreSQL's codes stay; messages go (app/logs.py).
    """

    _failure: BaseException | None = None

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        """Remember the exception; RQ formats and stores it next, in handle_job_failure."""
        self._failure = exc_info[1] if len(exc_info) > 1 else None
        super().handle_exception(job, *exc_info)

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: Any = None,
        exc_string: str = "",
        execution: Execution | None = None,
    ) -> None:
        """Store the redacted traceback instead of RQ's own."""
        if self._failure is not None:
            exc_string, self._failure = format_exception(self._failure), None
        super().handle_job_failure(
            job, queue, started_job_registry=started_job_registry, exc_string=exc_string, execution=execution
        )


def run_worker(*, burst: bool = False, with_scheduler: bool = True) -> None:
    """One RQ worker on every nvr queue, high priority first, running jobs in-process.

    A SimpleWorker (no fork per job) keeps dispatch fast and lets the database pool be reused; a job that
    crashes the process is recovered by the reconciler.
    """
    configure_logging()
    redis = get_redis()
    queues = [get_queue(name, redis) for name in QUEUE_ORDER]
    # Frequent maintenance lets a new worker take over RQ's scheduler soon after one was killed.
    worker = Worker(queues, connection=redis, maintenance_interval=MAINTENANCE_EVERY_S)
    worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="WARNING")


def run_cron() -> None:
    """Reconcile every `RECONCILE_EVERY_S` in this process, and queue the capacity refresh now and then.

    The reconciler is not a queued job, so no backlog on any queue can delay it; a failed pass (database
    or Redis down) is logged and the next one tries again.
    """
    configure_logging()
    settings = get_settings()
    reconciler = Reconciler()
    next_capacity = 0.0
    while True:
        started = time.monotonic()
        try:
            reconciler.run()
            if started >= next_capacity:
                slot = int(time.time() // settings.capacity_refresh_every_s)
                enqueue_all([PendingJob(REFRESH_CAPACITY, (), LOW, f"capacity-{slot}")])
                next_capacity = started + settings.capacity_refresh_every_s
        except Exception as exc:  # the reconciler must outlive any outage
            log.error("reconcile.failed", error=str(exc))
        time.sleep(max(0.0, settings.reconcile_every_s - (time.monotonic() - started)))


def run(
    *, processes: int = 1, burst: bool = False, cron: bool = True, metrics_port: int | None = None
) -> int:
    """Start `processes` workers and, unless `cron` is False, the reconciler; stop them all on SIGTERM.
    With `metrics_port`, this process serves their metrics (app.metrics: several processes add theirs
    up through PROMETHEUS_MULTIPROC_DIR).

    Returns the exit status: 1 when a child died on its own with an error, 0 otherwise.
    """
    if metrics_port is not None:
        start_http_server(metrics_port, registry=process_registry())
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
