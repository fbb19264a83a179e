"""Group commit for sign-ups: requests hand their sign-up to one writer thread per process, which keeps
whatever has queued up in one transaction (`start_many`) and answers each request once it is committed.

A national appeal brings thousands of sign-ups a second. One transaction each would spend most of the
machine on commits and round trips; batched, a sign-up costs a few rows of a multi-row INSERT. Nothing
waits on a timer: a lone sign-up is written at once, and while one batch commits the next one gathers.
A request is answered only after its batch committed (a 2xx means it happened); if a batch fails as a
whole, each of its sign-ups is written again on its own, so one bad row cannot refuse its neighbours.
"""

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache

import structlog

from app.db import unit_of_work
from app.errors import DomainError
from app.logs import describe
from app.signup.schemas import SignupCreate, SignupStarted
from app.signup.service import start_many

log = structlog.get_logger(__name__)

MAX_BATCH = 250  # sign-ups per transaction: big enough for a surge, small enough to commit in ms


@dataclass
class _Waiting:
    data: SignupCreate
    client: str
    future: "Future[SignupStarted]" = field(default_factory=Future)


class Intake:
    """The writer thread of one process and the queue in front of it."""

    def __init__(self, *, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Waiting] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # transactions committed, for tests and curiosity

    def submit(self, data: SignupCreate, client: str) -> "Future[SignupStarted]":
        """Queue a sign-up; the future holds its answer (or its refusal) once its batch committed."""
        self._ensure_writer()
        waiting = _Waiting(data, client)
        self._queue.put(waiting)
        return waiting.future

    def _ensure_writer(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="signup-intake", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            with unit_of_work() as session:
                outcomes = start_many(session, items=[(w.data, w.client) for w in batch])
        except Exception as exc:  # the batch is rolled back: nothing of it happened
            if len(batch) > 1:
                log.warning("signup.batch_failed", size=len(batch), error=describe(exc))
                for waiting in batch:
                    self._write([waiting])
                return
            batch[0].future.set_exception(exc)
            return
        self.batches += 1
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                waiting.future.set_exception(outcome)
            else:
                waiting.future.set_result(outcome)


@lru_cache
def intake() -> Intake:
    """This process's intake."""
    return Intake()
