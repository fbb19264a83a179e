"""Delivery rules without workers: receipts forward-only, permanent errors, STOP before sending, retries."""

import os
import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.sender import PermanentSendError, SendResult, TransientSendError
from alerts.signature import SIGNATURE_HEADER, compute_signature
from app.api.deps import current_settings
from app.callout import dispatch
from app.callout.models import Callout, CalloutStatus
from app.message import delivery, retry
from app.message.models import Message, MessageKind, MessageStatus
from app.message.service import outbound, queue_all, queue_for
from app.queue import HIGH, LOW, QUEUE_ORDER
from app.settings import Settings
from app.volunteer.models import Volunteer, VolunteerStatus
from tests.app.reserve import add_volunteer, incident_body, next_phone
from tests.app.twilio import new_sid, receipt_form, signed_post, sms

RETRY = retry.RetryPolicy(max_attempts=3, base_s=4.0, cap_s=8.0)
HOLDER = "test-worker"
LEASE = {"holder": HOLDER, "lease_s": 30.0}


@pytest.fixture
def callup(client: TestClient, coordinator: dict[str, str], db: Session) -> Iterator[Message]:
    """One call-up, claimed by a (pretend) worker and handed to the provider with SID SMabc."""
    add_volunteer(db, km=1)
    add_volunteer(db, km=2)
    db.commit()
    client.post("/api/v1/incidents", json=incident_body(overask=1), headers=coordinator)
    message = db.scalars(select(Message).where(Message.kind == MessageKind.callup)).one()
    assert dispatch.claim(db, message_ids=[message.id], **LEASE)
    assert dispatch.claim(db, message_ids=[message.id], **LEASE) == []  # a second job may not claim it again
    assert delivery.start(db, message_id=message.id, **LEASE)
    db.refresh(message)
    yield message


def receipt(client: TestClient, sid: str, status: str, code: str = "") -> int:
    return signed_post(client, "/webhooks/twilio/status", receipt_form(sid, status, code)).status_code


def test_receipts_never_move_a_message_backwards(client: TestClient, db: Session, callup: Message) -> None:
    sid = new_sid()
    dispatch.record_sent(db, message_id=callup.id, result=SendResult(sid, "queued", 1))
    db.commit()
    assert receipt(client, sid, "delivered") == 204
    assert receipt(client, sid, "sent") == 204  # late and out of order
    assert receipt(client, sid, "delivered") == 409  # the very same callback again is a replay
    form = {**receipt_form(sid, "delivered"), "RawDlrDoneDate": "2612012200"}
    assert signed_post(client, "/webhooks/twilio/status", form).status_code == 204  # stored once
    db.refresh(callup)
    assert callup.status is MessageStatus.delivered


def test_a_receipt_before_the_sid_is_known_is_applied_later(
    client: TestClient, db: Session, callup: Message
) -> None:
    sid = new_sid()
    assert receipt(client, sid, "delivered") == 204
    dispatch.record_sent(db, message_id=callup.id, result=SendResult(sid, "queued", 1))
    assert callup.status is MessageStatus.delivered


def test_undelivered_callup_fails_and_is_replaced(
    client: TestClient, coordinator: dict[str, str], db: Session, callup: Message
) -> None:
    sid = new_sid()
    dispatch.record_sent(db, message_id=callup.id, result=SendResult(sid, "queued", 1))
    db.commit()
    assert receipt(client, sid, "undelivered", "30006") == 204
    callout = db.get_one(Callout, callup.callout_id)
    db.refresh(callout)
    assert callout.status is CalloutStatus.failed and "30006" in (callout.reason or "")
    callups = db.scalars(select(Message).where(Message.kind == MessageKind.callup)).all()
    assert len(callups) == 2  # the next person was called


def test_stop_cancels_a_call_up_already_queued(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    queued = outbound(volunteer_id=volunteer.id, to=volunteer.phone or "", kind=MessageKind.help, body="hi")
    queue_all(db, [queued])
    db.commit()
    sms(client, volunteer.phone or "", "STOP")
    assert dispatch.claim(db, message_ids=[queued.id], **LEASE) == []
    assert db.get_one(Message, queued.id).status is MessageStatus.cancelled


@pytest.mark.parametrize(
    ("code", "status"),
    [(21610, VolunteerStatus.opted_out), (21211, VolunteerStatus.paused), (21614, VolunteerStatus.paused)],
)
def test_permanent_errors_are_not_retried_and_mark_the_volunteer(
    db: Session, callup: Message, code: int, status: VolunteerStatus
) -> None:
    error = PermanentSendError("refused", code=code)
    assert (
        dispatch.record_failure(
            db, message_id=callup.id, holder=HOLDER, error=error, retry=RETRY, rng=random.Random(1)
        )
        is None
    )
    assert callup.status is MessageStatus.failed and callup.error_code == code
    volunteer = db.get_one(Volunteer, db.get_one(Callout, callup.callout_id).volunteer_id)
    assert volunteer.status is status
    failed = status is VolunteerStatus.paused  # a number that cannot take SMS, not an opt-out
    marked = (volunteer.phone_failed_at is not None, volunteer.phone_failure_code)
    assert marked == (failed, code if failed else None)


def test_a_failed_number_is_listed_for_admins_and_a_new_number_clears_it(
    db: Session, client: TestClient, admin: dict[str, str], callup: Message
) -> None:
    error = PermanentSendError("not a mobile", code=21614)
    dispatch.record_failure(
        db, message_id=callup.id, holder=HOLDER, error=error, retry=RETRY, rng=random.Random(1)
    )
    volunteer_id = db.get_one(Callout, callup.callout_id).volunteer_id
    db.commit()
    listed = client.get("/api/v1/volunteers", params={"phone_failed": "true"}, headers=admin).json()
    assert [(v["id"], v["phone_failure_code"]) for v in listed["items"]] == [(volunteer_id, 21614)]
    changed = client.patch(f"/api/v1/volunteers/{volunteer_id}", json={"phone": next_phone()}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone_failed_at"] is None
    again = client.get("/api/v1/volunteers", params={"phone_failed": "true"}, headers=admin).json()
    assert again["total"] == 0


def test_transient_errors_back_off_then_fail(db: Session, callup: Message) -> None:
    rng = random.Random(3)
    error = TransientSendError("busy", code=20429)
    delays = []
    for _ in range(RETRY.max_attempts - 1):
        delay = dispatch.record_failure(
            db, message_id=callup.id, holder=HOLDER, error=error, retry=RETRY, rng=rng
        )
        assert delay is not None and callup.status is MessageStatus.pending
        delays.append(delay)
        assert dispatch.claim(db, message_ids=[callup.id], **LEASE) == []  # not due yet
        callup.next_attempt_at = None
        assert dispatch.claim(db, message_ids=[callup.id], **LEASE)
    assert 2.0 <= delays[0] <= 6.0 and 4.0 <= delays[1] <= 12.0
    assert (
        dispatch.record_failure(db, message_id=callup.id, holder=HOLDER, error=error, retry=RETRY, rng=rng)
        is None
    )
    assert callup.status is MessageStatus.failed and callup.attempts == RETRY.max_attempts
    assert db.get_one(Callout, callup.callout_id).status is CalloutStatus.failed


def test_a_failure_from_a_worker_whose_lease_was_taken_back_is_ignored(db: Session, callup: Message) -> None:
    callup.claimed_by = "another-worker"  # the lease ran out and another worker holds the message now
    db.flush()
    error = PermanentSendError("refused", code=21610)
    assert (
        dispatch.record_failure(
            db, message_id=callup.id, holder=HOLDER, error=error, retry=RETRY, rng=random.Random(1)
        )
        is None
    )
    assert callup.status is MessageStatus.sending and callup.error_code is None
    volunteer = db.get_one(Callout, callup.callout_id).volunteer_id
    assert db.get_one(Volunteer, volunteer).status is VolunteerStatus.active


def test_backoff_is_bounded_and_honours_retry_after() -> None:
    rng = random.Random(0)
    assert all(retry.backoff_s(n, None, RETRY, rng) <= RETRY.cap_s * 1.5 for n in range(1, 30))
    assert retry.backoff_s(1, 30.0, RETRY, rng) == 30.0


def test_callups_go_before_stand_downs() -> None:
    assert queue_for(MessageKind.callup) == HIGH and queue_for(MessageKind.confirmation) == HIGH
    assert queue_for(MessageKind.standdown) == LOW and queue_for(MessageKind.not_needed) == LOW
    assert QUEUE_ORDER.index(HIGH) < QUEUE_ORDER.index(LOW)


def test_signature_covers_the_query_string(client: TestClient) -> None:
    form = receipt_form(new_sid(), "sent")
    assert signed_post(client, "/webhooks/twilio/status?attempt=2", form).status_code == 204

    without_query = compute_signature(
        os.environ["TWILIO_AUTH_TOKEN"], os.environ["PUBLIC_BASE_URL"] + "/webhooks/twilio/status", form
    )
    response = client.post(
        "/webhooks/twilio/status?attempt=2", data=form, headers={SIGNATURE_HEADER: without_query}
    )
    assert response.status_code == 403


def test_an_empty_auth_token_disables_webhooks(client: TestClient) -> None:
    client.app.dependency_overrides[current_settings] = lambda: Settings(
        environment="development", twilio_auth_token=""
    )  # type: ignore[attr-defined]
    try:
        response = client.post(
            "/webhooks/twilio/sms", data={"MessageSid": "SMx", "From": "+447911000001", "Body": "YES"}
        )
        assert response.status_code == 403
        assert "disabled" in response.json()["detail"]
    finally:
        client.app.dependency_overrides.pop(current_settings)  # type: ignore[attr-defined]
