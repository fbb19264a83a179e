"""A worker process's leases: one holder name per process, and a heartbeat that keeps its claims."""

import time
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.callout import dispatch
from app.message import delivery
from app.message.models import Message, MessageStatus
from tests.app.reserve import add_volunteer
from tests.workers.conftest import add_message
from workers import lease


def test_a_process_has_one_holder_name() -> None:
    assert lease.holder() == lease.holder()


def test_the_heartbeat_keeps_a_claim_past_its_first_lease(live: Session) -> None:
    volunteer = add_volunteer(live, km=1)
    message_id = add_message(live, volunteer_id=volunteer.id, to_number=volunteer.phone)
    claimed = dispatch.claim(live, message_ids=[message_id], holder=lease.holder(), lease_s=1)
    live.commit()
    assert claimed
    time.sleep(lease.lease_s() / lease.BEATS_PER_LEASE + 1.5)  # the 1 s lease ran out long ago
    assert not delivery.take_back_expired(live)
    live.commit()
    left = live.scalar(select(Message.lease_until - func.now()).where(Message.id == message_id))
    assert left is not None and left > timedelta(seconds=1)
    live.expire_all()
    assert live.get_one(Message, message_id).status is MessageStatus.sending
