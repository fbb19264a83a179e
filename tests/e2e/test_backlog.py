"""A busy high-priority queue starves neither the reconciler nor the wave timers.

2,000 call-ups wait behind the default send rate (10/s, so over three minutes of backlog on the
high-priority queue); meanwhile another incident's wave timer must fire on time and a message whose job
was lost must be queued again and sent, both within seconds.
"""

from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callout.models import Callout
from app.message.models import Message, MessageKind
from app.message.service import outbound
from simulator.client import SimulatorClient
from tests.app.reserve import CARLISLE, add_volunteer, incident_body
from tests.e2e.conftest import start_worker, stop_worker, wait_for
from tests.e2e.faults import SENT, default_timing, handed_over
from tools.reserve import seed_first_aiders

BACKLOG = 2000
PENRITH = (-2.7527, 54.6641)  # 27 km from Carlisle: its own incident, its own volunteers
WAVE_TIMEOUT_S = 5
ON_TIME_S = 10.0  # WAVE_GRACE (3 s) + one reconcile interval (2 s), with room for a loaded machine
LOST_SENT_S = 15.0  # PENDING_GRACE (3 s) + one reconcile interval + the job each worker is busy with


def seed_backlog(live: Session) -> None:
    """BACKLOG first-aiders within 8 km of Carlisle, in one statement."""
    seed_first_aiders(live, BACKLOG, centre=CARLISLE, phone_prefix="+4479115", name="Backlog")
    live.commit()


def declare(api: httpx.Client, **body: object) -> int:
    response = api.post("/api/v1/incidents", json=incident_body(**body))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def called_at(live: Session, incident_id: int, volunteer_id: int) -> datetime | None:
    live.rollback()
    return live.scalar(
        select(Callout.called_at).where(
            Callout.incident_id == incident_id, Callout.volunteer_id == volunteer_id
        )
    )


def test_wave_timers_and_the_reconciler_keep_time_behind_a_busy_queue(
    live: Session, api: httpx.Client, simulator: SimulatorClient
) -> None:
    seed_backlog(live)
    declare(api, needs=[{"skill": "first_aid", "count": BACKLOG}], overask=1, wave_timeout_s=3600)
    worker = start_worker(2, **default_timing())
    try:
        wait_for(lambda: handed_over(live) >= 20, timeout_s=60)  # the workers are busy with the backlog
        first = add_volunteer(live, km=1, centre=PENRITH)
        live.commit()
        penrith = {"type": "Point", "coordinates": list(PENRITH)}
        waves = declare(
            api,
            area=penrith,
            rendezvous={"point": penrith, "text": "Penrith fire station"},
            radius_km=5,
            max_radius_km=5,
            needs=[{"skill": "first_aid", "count": 2}],
            overask=1,
            wave_timeout_s=WAVE_TIMEOUT_S,
        )
        late_joiner = add_volunteer(live, km=2, centre=PENRITH)  # only the second wave can call them
        lost = outbound(volunteer_id=first.id, to=first.phone or "", kind=MessageKind.help, body="Lost job")
        live.add(lost)  # committed with no job on any queue, as after an enqueue that failed
        live.commit()
        second_wave = wait_for(lambda: called_at(live, waves, late_joiner.id), timeout_s=WAVE_TIMEOUT_S + 60)
        first_wave = called_at(live, waves, first.id)
        assert first_wave is not None
        wave_late_s = (second_wave - first_wave).total_seconds() - WAVE_TIMEOUT_S
        sent = wait_for(
            lambda: (
                live.scalar(select(Message).where(Message.id == lost.id, Message.status.in_(SENT)))
                or live.rollback()
            ),
            timeout_s=60,
        )
        lost_s = (sent.sent_at - sent.created_at).total_seconds()
        backlog_left = BACKLOG - handed_over(live)
    finally:
        stop_worker(worker)
    print(
        f"\nbehind {backlog_left} queued call-ups: second wave {wave_late_s:.1f} s late, "
        f"a message whose job was lost sent {lost_s:.1f} s after it was written"
    )
    assert backlog_left > BACKLOG // 2, "the backlog drained too fast to test anything"
    assert wave_late_s < ON_TIME_S
    assert lost_s < LOST_SENT_S
