"""Failed authentications per client: counted in Redis, in memory while Redis is down, and audited."""

import time
import uuid
from collections.abc import Iterator

import pytest
from redis import Redis
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.auth.service import authenticate, create_token
from app.auth.throttle import KEY, WindowCounter
from app.errors import TooManyRequests, Unauthorized
from tests.conftest import TEST_REDIS_URL, free_port


def a_client() -> str:
    return f"192.0.2.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def redis() -> Redis:
    return Redis.from_url(TEST_REDIS_URL)


@pytest.fixture
def dead_redis() -> Redis:
    """A Redis client pointed at a port nobody listens on."""
    return Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.25)


@pytest.fixture
def audit(engine: Engine) -> Iterator[Session]:
    """A session that sees committed audit events, and removes the throttling ones a test made."""
    with Session(bind=engine) as session:
        yield session
        session.execute(delete(AuditEvent).where(AuditEvent.action == "auth.throttled"))
        session.commit()


def test_a_client_is_blocked_after_the_limit_for_the_rest_of_its_window(redis: Redis) -> None:
    counter = WindowCounter(redis, limit=3, window_s=30)
    client, bystander = a_client(), a_client()
    assert [counter.add(client) for _ in range(2)] == [1, 2]
    assert counter.blocked_for(client) is None
    assert counter.add(client) == 3
    assert 28 <= (counter.blocked_for(client) or 0) <= 30
    assert counter.blocked_for(bystander) is None
    assert 28 <= redis.ttl(KEY.format(client)) <= 30  # shared by every API process, and it expires


def test_with_redis_down_each_process_counts_on_its_own(dead_redis: Redis) -> None:
    counter = WindowCounter(dead_redis, limit=3, window_s=1)
    client = a_client()
    started = time.monotonic()
    assert [counter.add(client) for _ in range(3)] == [1, 2, 3]
    assert counter.blocked_for(client) == 1
    assert time.monotonic() - started < 1  # one failed connection, then Redis is left alone a while
    time.sleep(1.1)
    assert counter.blocked_for(client) is None


def test_authenticate_throttles_and_audits_without_the_token(
    db: Session, redis: Redis, audit: Session
) -> None:
    counter = WindowCounter(redis, limit=3, window_s=60)
    client = a_client()
    good = create_token(db, name="duty", role=Role.coordinator)
    assert authenticate(db, token=good, client=client, counter=counter).name == "duty"
    guesses = [f"nvr_guess{i}" for i in range(3)]
    for guess in guesses:
        with pytest.raises(Unauthorized):
            authenticate(db, token=guess, client=client, counter=counter)
    with pytest.raises(TooManyRequests) as refused:
        authenticate(db, token="nvr_guess3", client=client, counter=counter)
    assert 1 <= refused.value.extra["retry_after_s"] <= 60
    # Someone else's guesses from a shared address never lock out a good token.
    assert authenticate(db, token=good, client=client, counter=counter).name == "duty"
    assert authenticate(db, token=good, client=a_client(), counter=counter).name == "duty"
    events = audit.scalars(select(AuditEvent).where(AuditEvent.actor == f"client:{client}")).all()
    assert [(e.action, e.detail) for e in events] == [
        ("auth.throttled", {"client": client, "failures": 3, "window_s": 60})
    ]
    assert not any(guess in str(events[0].detail) for guess in guesses)


def test_a_missing_token_is_not_counted_as_a_guess(db: Session, redis: Redis) -> None:
    counter = WindowCounter(redis, limit=1, window_s=60)
    client = a_client()
    for _ in range(3):
        with pytest.raises(Unauthorized):
            authenticate(db, token=None, client=client, counter=counter)
    assert counter.blocked_for(client) is None
