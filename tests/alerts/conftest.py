"""Fixtures for the alerts library: real Redis db 15; the sender tests run against the simulator."""

import os
from collections.abc import Iterator

import pytest
from redis import Redis

# The sender is tested against a live simulator posting to a live receiver: the simulator's fixtures.
from tests.simulator.conftest import receiver, start_simulator

__all__ = ["receiver", "redis_db", "start_simulator"]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_db() -> Iterator[Redis]:
    """Redis database 15, empty before and after the test (and only that database is flushed)."""
    client = Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
