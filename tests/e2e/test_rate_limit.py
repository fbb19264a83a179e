"""One send rate across every worker process, enforced in Redis."""

from datetime import datetime

import httpx
from sqlalchemy.orm import Session

from simulator.client import SimulatorClient
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
