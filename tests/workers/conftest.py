"""Worker tests: committed rows in the real test database and the real test Redis, both emptied first."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import func, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.message.models import Direction, Message, MessageKind, MessageStatus
from tests.conftest import TEST_REDIS_URL
from tests.e2e.conftest import TABLES


@pytest.fixture
def redis() -> Redis:
    """The test Redis, empty."""
    connection = Redis.from_url(TEST_REDIS_URL)
    connection.flushdb()
    return connection


@pytest.fixture
def live(engine: Engine, redis: Redis) -> Iterator[Session]:
    """Empty tables and a session whose commits are real (the reconciler opens its own)."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    session = Session(bind=engine, expire_on_commit=False)
    yield session
    session.close()


def add_message(live: Session, *, age_s: float = 10, **values: Any) -> int:
    """One outbound message, last touched `age_s` ago on the database's clock; committed."""
    fields: dict[str, Any] = {
        "status": MessageStatus.pending,
        "kind": MessageKind.help,
        "to_number": "+447700900001",
        "attempts": 0,
        **values,
    }
    message = Message(direction=Direction.outbound, body="hi", **fields)
    live.add(message)
    live.flush()
    live.execute(
        update(Message)
        .where(Message.id == message.id)
        .values(updated_at=func.now() - timedelta(seconds=age_s))
    )
    live.commit()
    return message.id
