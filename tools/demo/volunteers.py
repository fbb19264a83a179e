"""Simulated volunteers: they read their call-ups in the simulator and answer like people do.

Most say nothing, some say no, a few say yes, each after a human delay; that is what real call-outs
look like (DOMAIN.md: acceptance is low), and it is what makes waves and stand-downs visible.
"""

import random
import re
import threading
import time
from dataclasses import dataclass, field

import structlog

from alerts.privacy import mask_number
from simulator.client import SimulatorClient

log = structlog.get_logger(__name__)
REF = re.compile(r"Reply YES (\d+)")


@dataclass
class Temperament:
    """How a simulated reserve answers: shares of YES and NO (the rest stay silent) and delays."""

    yes: float = 0.45
    no: float = 0.25
    median_delay_s: float = 4.0
    max_delay_s: float = 20.0


@dataclass
class Answers:
    """What the simulated volunteers said, for the summary."""

    yes: int = 0
    no: int = 0
    silent: int = 0
    seen: set[str] = field(default_factory=set)


class SimulatedVolunteers:
    """Polls the simulator for call-ups and answers each one once, on a timer of its own."""

    def __init__(self, simulator_url: str, *, temperament: Temperament, seed: int) -> None:
        self._client = SimulatorClient(simulator_url)
        self._temperament = temperament
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.answers = Answers()
        self._thread = threading.Thread(target=self._run, name="simulated-volunteers", daemon=True)

    def start(self) -> None:
        """Begin watching for call-ups."""
        self._thread.start()

    def stop(self) -> None:
        """Stop answering."""
        self._stop.set()
        self._thread.join(5)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._client.messages()
            except Exception as exc:
                log.debug("demo.poll_failed", error=str(exc))
                messages = []
            for message in messages:
                if message["direction"] == "inbound" or message["sid"] in self.answers.seen:
                    continue
                match = REF.search(message["body"])
                with self._lock:
                    self.answers.seen.add(message["sid"])
                if match:
                    self._decide(message["to"], int(match.group(1)))
            self._stop.wait(0.3)

    def _decide(self, number: str, ref: int) -> None:
        roll = self._rng.random()
        t = self._temperament
        delay = min(t.max_delay_s, self._rng.lognormvariate(0, 0.6) * t.median_delay_s)
        if roll < t.yes:
            body = self._rng.choice(["YES", "yes", f"Yes {ref}", "y", f"YES {ref}"])
            self.answers.yes += 1
        elif roll < t.yes + t.no:
            body = self._rng.choice(["NO", "no sorry", f"No {ref}", "n"])
            body = "NO" if body == "no sorry" else body
            self.answers.no += 1
        else:
            self.answers.silent += 1
            return
        timer = threading.Timer(delay, self._answer, args=(number, body))
        timer.daemon = True
        timer.start()

    def _answer(self, number: str, body: str) -> None:
        if self._stop.is_set():
            return
        started = time.monotonic()
        try:
            response = self._client.inbound(number, body)
            log.debug("demo.answered", number=mask_number(number), status=response.status_code)
        except Exception as exc:
            log.warning(
                "demo.answer_failed",
                number=mask_number(number),
                error=str(exc),
                after_s=time.monotonic() - started,
            )
