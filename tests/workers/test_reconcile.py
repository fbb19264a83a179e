"""The reconciler against the real database and Redis: what it takes back, what it queues, what it leaves."""

from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.callout import dispatch
from app.callout.flows import declare_incident
from app.callout.models import Callout
from app.inbox.models import InboxItem, InboxKind
from app.incident.models import Incident
from app.incident.schemas import IncidentCreate
from app.message import delivery
from app.message.models import Message, MessageKind, MessageStatus
from app.message.service import send_jobs
from app.queue import HIGH, enqueue_all, get_queue, message_ids_in, messages_job_id
from app.settings import get_settings
from app.volunteer.models import Credential, Volunteer
from app.volunteer.service import today_uk
from tests.app.reserve import CARLISLE, add_volunteer
from tests.workers.conftest import add_message
from workers.reconcile import LOCK_KEY, Reconciler


@pytest.fixture
def reconciler(redis: Redis) -> Reconciler:
    """A fresh reconciler (it remembers what its last pass found unheld)."""
    return Reconciler(redis)


def queued_ids(redis: Redis, name: str = HIGH) -> list[int]:
    """Message ids named by the jobs on queue `name`, front first."""
    return [m for job_id in get_queue(name, redis).get_job_ids() for m in message_ids_in(job_id)]


def status_of(live: Session, message_id: int) -> Message:
    live.expire_all()
    return live.get_one(Message, message_id)


def test_a_job_id_names_its_messages() -> None:
    ids = [5, 101, 102, 103, 7, 200]
    job_id = messages_job_id(ids)
    assert job_id.startswith("msgs-5-7-101_103-200-")
    assert message_ids_in(job_id) == sorted(ids)
    assert message_ids_in("wave-3-late") == []


def test_a_pending_message_no_queue_holds_is_queued_again_once(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    lost = add_message(live)
    assert reconciler.run()["requeued"] == 0  # unheld once: perhaps a live worker is claiming it
    assert reconciler.run()["requeued"] == 1
    assert queued_ids(redis) == [lost]
    assert reconciler.run()["requeued"] == 0  # the queue holds it now
    assert queued_ids(redis) == [lost]


def test_thousands_waiting_behind_the_send_rate_are_not_queued_twice(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    ids = [add_message(live, age_s=60) for _ in range(400)]
    enqueue_all(send_jobs([(i, MessageKind.callup) for i in ids]), connection=redis)
    jobs = get_queue(HIGH, redis).count
    for _ in range(3):
        assert reconciler.run()["requeued"] == 0
    assert get_queue(HIGH, redis).count == jobs
    assert sorted(queued_ids(redis)) == ids


def test_a_job_a_dead_worker_dequeued_is_queued_again_at_the_front(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    first, second = add_message(live), add_message(live)
    enqueue_all(send_jobs([(first, MessageKind.help)]), connection=redis)
    enqueue_all(send_jobs([(second, MessageKind.help)]), connection=redis)
    redis.lpop(get_queue(HIGH, redis).key)  # a worker took `first`'s job, then died before claiming it
    assert reconciler.run()["requeued"] == 0
    assert reconciler.run()["requeued"] == 1
    assert queued_ids(redis) == [first, second]


def test_a_young_pending_message_is_left_to_its_enqueue(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    add_message(live, age_s=0)  # committed a moment ago: its job is enqueued right after commit
    assert reconciler.run()["requeued"] == 0
    assert reconciler.run()["requeued"] == 0


def test_an_expired_lease_is_taken_back_and_a_live_one_is_not(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    dead = add_message(live, status=MessageStatus.sending, claimed_by="dead:1:a", attempts=1)
    alive = add_message(live, status=MessageStatus.sending, claimed_by="alive:2:b", attempts=1)
    # Leases on the database's clock: one ran out a moment ago, one has 30 s to go.
    live.execute(
        update(Message).where(Message.id == dead).values(lease_until=func.now() - timedelta(seconds=1))
    )
    live.execute(
        update(Message).where(Message.id == alive).values(lease_until=func.now() + timedelta(seconds=30))
    )
    live.commit()
    outcome = reconciler.run()
    assert outcome["taken_back"] == 1 and outcome["requeued"] == 1
    taken = status_of(live, dead)
    assert taken.status is MessageStatus.pending and taken.claimed_by is None and taken.lease_until is None
    assert status_of(live, alive).status is MessageStatus.sending
    assert queued_ids(redis) == [dead]
    assert reconciler.run()["requeued"] == 0


def test_the_heartbeat_renews_only_its_own_leases(live: Session) -> None:
    mine = add_message(live, status=MessageStatus.sending, claimed_by="me:1:a")
    theirs = add_message(live, status=MessageStatus.sending, claimed_by="them:2:b")
    live.execute(update(Message).values(lease_until=func.now() - timedelta(seconds=1)))
    live.commit()
    assert delivery.renew(live, holder="me:1:a", lease_s=30) == 1
    live.commit()
    assert delivery.take_back_expired(live) == [(theirs, MessageKind.help)]
    live.commit()
    assert status_of(live, mine).status is MessageStatus.sending


def test_a_claim_leases_the_message_to_its_worker(live: Session) -> None:
    volunteer = add_volunteer(live, km=1)
    message_id = add_message(live, volunteer_id=volunteer.id, to_number=volunteer.phone)
    claimed = dispatch.claim(live, message_ids=[message_id], holder="me:1:a", lease_s=30)
    live.commit()
    assert [c.message_id for c in claimed] == [message_id]
    leased = status_of(live, message_id)
    assert leased.status is MessageStatus.sending and leased.claimed_by == "me:1:a"
    remaining = live.scalar(select(Message.lease_until - func.now()).where(Message.id == message_id))
    assert remaining is not None and timedelta(seconds=25) < remaining <= timedelta(seconds=30)
    assert not delivery.start(live, message_id=message_id, holder="other:2:b", lease_s=30)
    assert delivery.start(live, message_id=message_id, holder="me:1:a", lease_s=30)


def test_a_late_retry_is_queued_again_and_a_future_one_is_not(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    due, later = add_message(live), add_message(live)
    for message_id, in_s in ((due, -10), (later, 60)):
        live.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(
                next_attempt_at=func.now() + timedelta(seconds=in_s),
                updated_at=func.now() - timedelta(seconds=20),
            )
        )
    live.commit()
    # Both retries are in RQ's scheduled registry; the scheduler is 10 s late with the first.
    enqueue_all(send_jobs([(due, MessageKind.help)], delay_s=0.001), connection=redis)
    registry = get_queue(HIGH, redis).scheduled_job_registry
    (job_id,) = registry.get_job_ids()
    redis.zadd(registry.key, {job_id: int(redis.time()[0]) - 10})
    enqueue_all(send_jobs([(later, MessageKind.help)], delay_s=60), connection=redis)
    assert reconciler.run()["requeued"] == 0
    assert reconciler.run()["requeued"] == 1
    assert queued_ids(redis) == [due]


def test_only_one_reconciler_pass_runs_at_a_time(
    live: Session, redis: Redis, engine: Engine, reconciler: Reconciler
) -> None:
    add_message(live)
    with engine.connect() as other:
        assert other.scalar(select(func.pg_try_advisory_lock(LOCK_KEY)))
        assert reconciler.run() == {"busy": 1}
        other.execute(select(func.pg_advisory_unlock(LOCK_KEY)))
        other.commit()
    reconciler.run()
    assert reconciler.run()["requeued"] == 1


def test_an_overdue_wave_is_run_by_the_reconciler_itself(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    for km in (1, 2, 3):
        add_volunteer(live, km=km)
    live.commit()
    data = IncidentCreate.model_validate(
        {
            "title": "River Eden flooding",
            "kind": "flood",
            "area": {"type": "Point", "coordinates": list(CARLISLE)},
            "radius_km": 10,
            "max_radius_km": 10,
            "needs": [{"skill": "first_aid", "count": 3}],
            "overask": 2,  # wants 6 called: the first wave finds only 3
            "wave_timeout_s": 600,
        }
    )
    incident = declare_incident(live, data=data, actor="test", settings=get_settings())
    live.commit()
    callups = live.scalar(select(func.count()).where(Message.kind == MessageKind.callup))
    add_volunteer(live, km=4)
    live.execute(
        update(Incident)
        .where(Incident.id == incident.id)
        .values(next_wave_at=func.now() - timedelta(seconds=10))
    )
    live.commit()
    assert reconciler.run()["waves"] == 1
    live.expire_all()
    assert live.scalar(select(func.count()).where(Message.kind == MessageKind.callup)) == (callups or 0) + 1
    assert live.scalar(select(Incident.next_wave_at > func.now()).where(Incident.id == incident.id))


def test_a_job_a_live_worker_is_claiming_is_not_queued_again(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    claiming = add_message(live)
    assert reconciler.run()["requeued"] == 0  # its job is dequeued, the claim not yet committed
    live.execute(update(Message).where(Message.id == claiming).values(status=MessageStatus.sending))
    live.commit()
    assert reconciler.run()["requeued"] == 0
    assert queued_ids(redis) == []


def test_an_unanswered_welfare_check_is_put_in_the_inbox_by_the_reconciler_once(
    live: Session, redis: Redis, reconciler: Reconciler
) -> None:
    add_volunteer(live, km=1)
    live.commit()
    data = IncidentCreate.model_validate(
        {
            "title": "River Eden flooding",
            "kind": "flood",
            "area": {"type": "Point", "coordinates": list(CARLISLE)},
            "radius_km": 10,
            "needs": [{"skill": "first_aid", "count": 1}],
        }
    )
    incident = declare_incident(live, data=data, actor="test", settings=get_settings())
    live.commit()
    asked = func.now() - timedelta(seconds=get_settings().welfare_timeout_s + 60)
    live.execute(update(Callout).where(Callout.incident_id == incident.id).values(welfare_asked_at=asked))
    live.commit()
    assert reconciler.run()["welfare"] == 1
    assert reconciler.run()["welfare"] == 0
    kinds = live.scalars(select(InboxItem.kind).where(InboxItem.incident_id == incident.id)).all()
    assert kinds == [InboxKind.welfare]


def test_the_reserves_upkeep_runs_in_the_uk_daytime_at_most_once_a_minute(
    live: Session, reconciler: Reconciler
) -> None:
    volunteer = add_volunteer(live, km=1, expires_on=today_uk() + timedelta(days=10))
    live.commit()
    night, day = datetime(2026, 12, 14, 2, tzinfo=UTC), datetime(2026, 12, 14, 11, tzinfo=UTC)
    assert set(reconciler.upkeep(now=night).values()) == {0}
    assert reconciler.upkeep(now=day)["expiry_reminders"] == 1
    live.execute(update(Volunteer).where(Volunteer.id == volunteer.id).values(reminded_at=None))
    live.execute(update(Credential).values(expiry_reminded_days=None))
    live.commit()
    assert reconciler.upkeep(now=day)["expiry_reminders"] == 0  # not again within the minute
    reconciler.upkeep_at = 0.0
    assert reconciler.upkeep(now=day)["expiry_reminders"] == 1
    assert {"expiry_reminders", "availability_asked", "marked_inactive"} <= set(reconciler.run())
    kinds = live.scalars(select(Message.kind).where(Message.volunteer_id == volunteer.id)).all()
    assert kinds == [MessageKind.expiry_reminder, MessageKind.expiry_reminder]
