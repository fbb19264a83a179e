"""One send rate across every worker process, enforced in Redis."""

from datetime import datetime

import httpx
from sqlalchemy.orm import Session

from alerts.simulator.client import SimulatorClient
from tests.app.reserve import add_volunteer, incident_body
from tests.e2e.conftest import start_worker, stop_worker, wait_for
from tests.e2e.faults import handed_over

RATE = 20  # per second; the limiter's burst is one second's worth
CALLUPS = 80


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
    assert busiest <= 2 * RATE + 2  # a full burst plus one second's rate, give or take a boundary
    assert arrivals[-1] - arrivals[0] >= (CALLUPS - RATE) / RATE * 0.9
