"""Fixtures for the alerts library: the tests' own Redis database; the sender runs against the simulator."""

from collections.abc import Iterator

import pytest
from redis import Redis

# The sender is tested against a live simulator posting to a live receiver: the simulator's fixtures.
from tests.conftest import TEST_REDIS_URL
from tests.simulator.conftest import receiver, start_simulator

__all__ = ["receiver", "redis_db", "start_simulator"]


@pytest.fixture
def redis_db() -> Iterator[Redis]:
    """The tests' Redis database, empty before and after the test (and only that database is flushed)."""
    client = Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
