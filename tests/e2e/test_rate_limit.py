"""One send rate per sender across every worker process, enforced in Redis; the service's rate is the
pool's sum, and each person hears from (and answers) one of our numbers."""

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.message.models import Direction, Message
from simulator.client import SimulatorClient
from simulator.config import SimulatorConfig
from tests.app.reserve import add_volunteer, incident_body
from tests.e2e.conftest import start_worker, stop_worker, wait_for
from tests.e2e.faults import handed_over

RATE = 20  # per second; the limiter's burst is one second's worth
CALLUPS = 80
JITTER_S = 0.25  # how much more one message may lag its grant than another, at most


def test_two_worker_processes_share_one_rate(
    live: Session, api: httpx.Client, simulator: SimulatorClient
) -> None:
    for i in range(CALLUPS):
        add_volunteer(live, km=0.2 + i * 0.1, bearing=i * 13)
    live.commit()
    body = incident_body(needs=[{"skill": "first_aid", "count": CALLUPS}], overask=1)
    assert api.post("/api/v1/incidents", json=body).status_code == 201
    worker = start_worker(2, SMS_RATE_PER_SECOND=str(RATE))
    try:
        wait_for(lambda: handed_over(live) == CALLUPS, timeout_s=60)
    finally:
        stop_worker(worker)
    arrivals = sorted(
        datetime.fromisoformat(m["status_history"][0]["at"]).timestamp()
        for m in simulator.messages()
        if m["direction"] == "outbound-api"
    )
    assert len(arrivals) == CALLUPS
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    # The limiter grants at most a burst plus one second's rate in any second. The simulator sees each
    # grant later by a lease check and an HTTP request, and by a varying amount on a busy machine: grants
    # spread over 1 s + JITTER_S can arrive within one second. One limiter per process would let ~80 in.
    assert busiest <= 2 * RATE + RATE * JITTER_S, busiest
    assert arrivals[-1] - arrivals[0] >= (CALLUPS - RATE) / RATE * 0.9


SENDERS = ("+447700900101", "+447700900102")


@pytest.fixture
def two_numbers(sim_config: SimulatorConfig) -> Iterator[tuple[str, ...]]:
    """The simulator's account holds two more numbers for the test."""
    sim_config.sender_numbers = SENDERS
    yield SENDERS
    sim_config.sender_numbers = ()


def test_each_sender_has_its_own_rate_and_each_person_one_sender(
    live: Session, api: httpx.Client, simulator: SimulatorClient, two_numbers: tuple[str, ...]
) -> None:
    people = [add_volunteer(live, km=0.2 + i * 0.1, bearing=i * 13) for i in range(CALLUPS)]
    live.commit()
    body = incident_body(needs=[{"skill": "first_aid", "count": CALLUPS}], overask=1)
    assert api.post("/api/v1/incidents", json=body).status_code == 201
    worker = start_worker(2, SMS_RATE_PER_SECOND=str(RATE), TWILIO_SENDER_NUMBERS=",".join(two_numbers))
    try:
        wait_for(lambda: handed_over(live) == CALLUPS, timeout_s=60)
        sent = [m for m in simulator.messages() if m["direction"] == "outbound-api"]
        assert len(sent) == CALLUPS
        by_sender = {n: sorted(_arrival(m) for m in sent if m["from"] == n) for n in two_numbers}
        assert sum(len(times) for times in by_sender.values()) == CALLUPS  # all from our two numbers
        for number, times in by_sender.items():
            assert len(times) > CALLUPS / 4, (number, len(times))  # the load is spread
            busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
            assert busiest <= 2 * RATE + RATE * JITTER_S, (number, busiest)
        arrivals = sorted(t for times in by_sender.values() for t in times)
        # Faster than one sender could go: the rate counts segments, and one sender alone would need
        # (segments - one burst) / rate seconds for them all.
        segments = sum(int(m["num_segments"]) for m in sent)
        assert arrivals[-1] - arrivals[0] < (segments - RATE) / RATE * 0.8, segments
        # A reply goes back to the number that texted them, and each person has one sender.
        ada = people[0]
        [callup] = [m for m in sent if m["to"] == ada.phone]
        assert simulator.inbound(ada.phone or "", "Y").status_code == 200
        reply = wait_for(
            lambda: live.scalar(
                select(Message).where(
                    Message.direction == Direction.inbound, Message.from_number == ada.phone
                )
            )
        )
        assert reply.to_number == callup["from"]
        recorded = live.scalars(
            select(Message.from_number).where(
                Message.direction == Direction.outbound, Message.kind == "callup"
            )
        ).all()
        assert sorted(set(recorded)) == sorted(two_numbers)
    finally:
        stop_worker(worker)


def _arrival(message: dict[str, object]) -> float:
    history = message["status_history"]
    assert isinstance(history, list)
    return datetime.fromisoformat(history[0]["at"]).timestamp()
