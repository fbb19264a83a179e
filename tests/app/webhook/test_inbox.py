"""Stored webhooks and what follows them: once per MessageSid, in order per sender, recovered if lost."""

from fastapi.testclient import TestClient
from psycopg.errors import DeadlockDetected
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from alerts.sender import SendResult
from app.api import create_app
from app.api.webhooks import Consequences, get_consequences
from app.callout import dispatch
from app.message.models import Message, MessageKind, MessageStatus, Receipt
from app.message.service import store_receipt
from app.queue import get_redis
from app.volunteer.models import VolunteerStatus
from app.webhook.fields import InboundSms
from app.webhook.inbox import act_on_stored, apply_receipt_batch, recover
from app.webhook.models import InboundPending
from app.webhook.service import process_oldest, store_inbound
from tests.app.reserve import add_volunteer, incident_body
from tests.app.twilio import INBOUND, new_sid, signed_post, sms_form


def inbound(phone: str, body: str, opt_out_type: str | None = None) -> InboundSms:
    return InboundSms(
        sid=new_sid(), from_number=phone, to_number="+447700900000", body=body, opt_out_type=opt_out_type
    )


def test_the_fallback_url_stores_and_acts_on_the_same_message_once(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    form = sms_form(volunteer.phone or "", "STOP", OptOutType="STOP")
    assert signed_post(client, INBOUND + "/fallback", form).status_code == 200
    assert signed_post(client, INBOUND, form | {"NumSegments": "1"}).status_code == 200  # primary, late
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.opted_out
    stored = db.scalars(select(Message).where(Message.provider_sid == form["MessageSid"])).all()
    assert len(stored) == 1
    assert db.scalar(select(func.count()).select_from(InboundPending)) == 0


def test_a_2xx_means_stored_and_the_consequences_may_come_later(client: TestClient, db: Session) -> None:
    client.app.dependency_overrides[get_consequences] = Consequences  # type: ignore[attr-defined]
    volunteer = add_volunteer(db, km=1)
    db.commit()
    assert signed_post(client, INBOUND, sms_form(volunteer.phone or "", "STOP")).status_code == 200
    [pending] = db.scalars(select(InboundPending)).all()
    assert pending.volunteer_id == volunteer.id
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active  # not yet: a worker does it
    assert act_on_stored(db) == 1
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.opted_out
    assert act_on_stored(db) == 0  # a second job: nothing
    assert db.scalar(select(func.count()).select_from(InboundPending)) == 0


def test_a_senders_messages_are_acted_on_in_the_order_they_arrived(db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    phone = volunteer.phone or ""
    stop = store_inbound(db, sms=inbound(phone, "STOP", "STOP"), signature=new_sid())
    start = store_inbound(db, sms=inbound(phone, "START", "START"), signature=new_sid())
    assert stop is not None and start is not None
    # Oldest first, whichever job runs: the STOP, then the START.
    assert process_oldest(db)
    assert process_oldest(db)
    assert not process_oldest(db)
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active
    assert db.scalar(select(func.count()).select_from(InboundPending)) == 0
    kinds = db.scalars(select(Message.kind).where(Message.volunteer_id == volunteer.id).order_by(Message.id))
    assert list(kinds)[-1] is MessageKind.opted_in


def test_receipts_are_applied_in_bulk_and_an_early_one_waits_for_its_sid(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    add_volunteer(db, km=1)
    add_volunteer(db, km=2)
    db.commit()
    client.post("/api/v1/incidents", json=incident_body(overask=2), headers=coordinator)
    callups = db.scalars(select(Message).where(Message.kind == MessageKind.callup)).all()
    sids = [new_sid() for _ in callups]
    for message, sid in zip(callups, sids, strict=True):
        message.provider_sid, message.status = sid, MessageStatus.sent
    db.flush()
    early = new_sid()
    for sid in [*sids, early]:
        assert store_receipt(db, sid=sid, status="delivered", error_code=None)
    assert not store_receipt(db, sid=sids[0], status="delivered", error_code=None)  # once per status
    assert apply_receipt_batch(db) == len(callups)
    assert apply_receipt_batch(db) == 0
    for message in callups:
        db.refresh(message)
        assert message.status is MessageStatus.delivered
    waiting = db.scalars(select(Receipt).where(Receipt.applied.is_(False))).all()
    assert [r.provider_sid for r in waiting] == [early]


def test_recovery_queues_what_was_stored_and_not_acted_on(db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    message_id = store_inbound(db, sms=inbound(volunteer.phone or "", "HELP"), signature=new_sid())
    db.execute(
        InboundPending.__table__.update().values(
            received_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 1)
        )
    )
    db.commit()
    redis = get_redis()
    redis.flushdb()
    assert recover(db) == {"inbound": 1, "receipts": 0}
    db.commit()  # recovery queues after commit
    queued = redis.lrange("rq:queue:nvr-high", 0, -1)
    assert [job for job in queued if job.startswith(b"process_inbound-r")]
    assert message_id is not None


def test_a_late_receipt_sent_before_its_sid_was_recorded_is_still_applied(
    db: Session, client: TestClient, coordinator: dict[str, str]
) -> None:
    add_volunteer(db, km=1)
    db.commit()
    client.post("/api/v1/incidents", json=incident_body(overask=1), headers=coordinator)
    message = db.scalars(select(Message).where(Message.kind == MessageKind.callup)).one()
    sid = new_sid()
    assert store_receipt(db, sid=sid, status="delivered", error_code=None)
    assert apply_receipt_batch(db) == 0
    assert dispatch.claim(db, message_ids=[message.id], holder="test-worker", lease_s=30.0)
    dispatch.record_sent(db, message_id=message.id, result=SendResult(sid, "queued", 1))
    assert message.status is MessageStatus.delivered


def test_an_exhausted_pool_or_a_deadlock_is_overload_not_an_outage() -> None:
    app = create_app()

    @app.get("/pool")
    def pool() -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 20 reached")

    @app.get("/deadlock")
    def deadlock() -> None:
        raise OperationalError("SELECT 1", {}, DeadlockDetected("deadlock detected"))

    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/pool", "/deadlock"):
            answer = client.get(path)
            assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
            assert "unavailable" not in answer.json()["detail"]
