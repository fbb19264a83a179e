"""Soak: 3,000 call-ups through real workers and the simulator with 10% transient failures, a worker
SIGKILLed twice, Redis flushed once and volunteers opting out mid-run.

Duplicate bound: a message is leased to its worker (`sending`, committed) before the provider call and
gets its SID after; only a worker killed between the two can leave a message the provider already has,
which is sent again once the reconciler takes its lease back. Each worker process has at most
SEND_THREADS provider calls in flight, so one kill duplicates at most processes x SEND_THREADS messages.
"""

from collections import Counter

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.message.models import Message, MessageKind, MessageStatus
from simulator.client import SimulatorClient
from simulator.config import SimulatorConfig
from tests.app.reserve import CARLISLE, incident_body
from tests.e2e.conftest import start_worker, stop_worker, wait_for
from tests.e2e.faults import SENT, callups_by_status, flush_redis, handed_over, kill_hard
from tools.reserve import seed_first_aiders
from workers.jobs import SEND_THREADS

CALLUPS = 3000
PROCESSES = 2
KILLS = 2
OPT_OUTS = 30
DONE = (*SENT, MessageStatus.failed, MessageStatus.cancelled)


def seed_reserve(live: Session) -> list[str]:
    """CALLUPS first-aiders within 8 km of Carlisle, in one statement."""
    seed_first_aiders(live, CALLUPS, centre=CARLISLE, phone_prefix="+4479112", name="Soak")
    live.commit()
    return list(live.scalars(text("SELECT phone FROM volunteers ORDER BY id")))


def test_soak(
    live: Session, api: httpx.Client, simulator: SimulatorClient, sim_config: SimulatorConfig
) -> None:
    phones = seed_reserve(live)
    sim_config.transient_failure_rate = 0.1
    body = incident_body(
        needs=[{"skill": "first_aid", "count": CALLUPS // 2}], overask=2, wave_timeout_s=3600
    )
    incident = api.post("/api/v1/incidents", json=body)
    assert incident.status_code == 201, incident.text
    worker = start_worker(PROCESSES)
    try:
        quitters = phones[-OPT_OUTS:]  # the farthest, so most are still unsent when they reply STOP
        for phone in quitters:
            assert simulator.inbound(phone, "STOP").status_code == 200
        for threshold in (600, 1500):
            wait_for(lambda t=threshold: handed_over(live) >= t, timeout_s=120, every_s=0.2)
            kill_hard(worker)
            worker = start_worker(PROCESSES)
        wait_for(lambda: handed_over(live) >= 2200, timeout_s=120, every_s=0.2)
        flush_redis()
        counts = wait_for(
            lambda: (lambda c: c if sum(c[s] for s in DONE) == CALLUPS else None)(callups_by_status(live)),
            timeout_s=150,
            every_s=0.5,
        )
    finally:
        stop_worker(worker)

    live.expire_all()
    failed_without_reason = live.scalar(
        select(func.count()).where(
            Message.kind == MessageKind.callup,
            Message.status == MessageStatus.failed,
            Message.error_message.is_(None),
        )
    )
    messages = simulator.messages()
    outbound = Counter(
        m["to"] for m in messages if m["direction"] == "outbound-api" and "call-up" in m["body"]
    )
    duplicates = sum(n - 1 for n in outbound.values() if n > 1)
    stop_index = {m["from"]: i for i, m in enumerate(messages) if m["direction"] == "inbound"}
    after_stop = [
        m
        for i, m in enumerate(messages)
        if m["direction"] == "outbound-api" and i > stop_index.get(m["to"], len(messages))
    ]
    sent = sum(counts[s] for s in SENT)
    print(
        f"\nsoak: {CALLUPS} call-ups; sent {sent}, failed {counts[MessageStatus.failed]}, "
        f"cancelled {counts[MessageStatus.cancelled]}; "
        f"duplicates {duplicates} (bound {KILLS * PROCESSES * SEND_THREADS}); "
        f"retried {live.scalar(select(func.count()).where(Message.attempts > 1))}; "
        f"messages after STOP {len(after_stop)}"
    )
    assert sum(counts[s] for s in DONE) == CALLUPS
    assert failed_without_reason == 0
    assert counts[MessageStatus.cancelled] <= OPT_OUTS
    assert duplicates <= KILLS * PROCESSES * SEND_THREADS
    assert after_stop == []
