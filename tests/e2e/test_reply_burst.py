"""A burst of replies over real HTTP, acted on by real workers: every reply 2xx, each counted once."""

import os
import subprocess
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.signature import SIGNATURE_HEADER, compute_signature
from app.audit.models import AuditEvent
from app.callout.models import Callout, CalloutStatus
from app.message.models import Direction, Message, MessageKind, MessageStatus
from app.webhook.models import InboundPending
from tests.app.reserve import add_volunteer, incident_body
from tests.conftest import API_PORT, TEST_REDIS_URL
from tests.e2e.conftest import ARTIFACTS, start_worker, stop_worker, wait_for

CALLUPS, NEED = 200, 50
INBOUND = "/webhooks/twilio/sms"


def reply_form(phone: str, body: str) -> dict[str, str]:
    sid = "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
        "From": phone,
        "To": os.environ["TWILIO_FROM_NUMBER"],
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def post_signed(client: httpx.Client, path: str, form: dict[str, str]) -> int:
    signature = compute_signature(os.environ["TWILIO_AUTH_TOKEN"], os.environ["PUBLIC_BASE_URL"] + path, form)
    return client.post(path, data=form, headers={SIGNATURE_HEADER: signature}).status_code


@pytest.fixture
def workers(live: Session) -> subprocess.Popen[bytes]:
    process = start_worker(processes=2)
    yield process
    stop_worker(process)


def test_200_concurrent_replies_fill_a_need_of_50_exactly(
    live: Session, api: httpx.Client, workers: subprocess.Popen[bytes]
) -> None:
    log_start = (ARTIFACTS / "worker.log").stat().st_size
    people = [add_volunteer(live, km=0.5 + (i % 9), bearing=(i * 37) % 360) for i in range(CALLUPS)]
    live.commit()
    body = incident_body(needs=[{"skill": "first_aid", "count": NEED}], overask=CALLUPS / NEED)
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    incident_id = response.json()["id"]
    sent = (MessageStatus.queued, MessageStatus.sent, MessageStatus.delivered)
    wait_for(
        lambda: (
            live.scalar(
                select(func.count()).where(Message.kind == MessageKind.callup, Message.status.in_(sent))
            )
            == CALLUPS
        ),
        timeout_s=60,
    )
    live.rollback()
    forms = [reply_form(p.phone or "", "YES") for p in people]
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{API_PORT}", timeout=30) for _ in range(32)]
    with ThreadPoolExecutor(32) as pool:
        codes = Counter(pool.map(lambda i: post_signed(clients[i % 32], INBOUND, forms[i]), range(CALLUPS)))
    for client in clients:
        client.close()
    assert codes == {200: CALLUPS}

    def acted_on() -> bool:
        live.rollback()
        return live.scalar(select(func.count()).select_from(InboundPending)) == 0

    wait_for(acted_on, timeout_s=90, every_s=0.25)
    statuses = Counter(live.scalars(select(Callout.status).where(Callout.incident_id == incident_id)))
    assert statuses == {CalloutStatus.accepted: NEED, CalloutStatus.stood_down: CALLUPS - NEED}
    inbound = live.scalars(select(Message).where(Message.direction == Direction.inbound)).all()
    assert len(inbound) == CALLUPS and all(m.callout_id is not None for m in inbound)
    answers = Counter(
        (m.volunteer_id, m.kind)
        for m in live.scalars(
            select(Message).where(
                Message.kind.in_((MessageKind.confirmation, MessageKind.not_needed, MessageKind.standdown))
            )
        )
    )
    confirmed = {v for (v, kind) in answers if kind is MessageKind.confirmation}
    assert len(confirmed) == NEED
    for person in people:  # every YES answered once: confirmed, or thanked (and stood down once)
        kinds = {kind: n for (v, kind), n in answers.items() if v == person.id}
        assert kinds in (
            {MessageKind.confirmation: 1},
            {MessageKind.not_needed: 1, MessageKind.standdown: 1},
        ), kinds
    actions = Counter(
        live.scalars(
            select(AuditEvent.action).where(AuditEvent.action.in_(("callout.accepted", "callout.late_yes")))
        )
    )
    assert actions == {"callout.accepted": NEED, "callout.late_yes": CALLUPS - NEED}
    log = (ARTIFACTS / "worker.log").read_bytes()[log_start:].decode(errors="replace")
    assert "deadlock" not in log.lower() and "Traceback" not in log


def test_a_stored_reply_whose_job_was_lost_is_acted_on_by_the_reconciler(
    live: Session, api: httpx.Client
) -> None:
    person = add_volunteer(live, km=1)
    live.commit()
    api.post("/api/v1/incidents", json=incident_body(overask=1))
    with httpx.Client(base_url=f"http://127.0.0.1:{API_PORT}", timeout=30) as client:
        assert post_signed(client, INBOUND, reply_form(person.phone or "", "YES")) == 200
    Redis.from_url(TEST_REDIS_URL).flushdb()  # the process "died": its queued job is gone
    assert live.scalar(select(func.count()).select_from(InboundPending)) == 1
    process = start_worker()
    try:
        wait_for(
            lambda: (live.rollback(), live.scalar(select(Callout.status)))[1] is CalloutStatus.accepted,
            timeout_s=30,
        )
    finally:
        stop_worker(process)
    assert live.scalar(select(func.count()).select_from(InboundPending)) == 0
