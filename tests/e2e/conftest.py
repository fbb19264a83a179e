"""End-to-end fixtures: committed data, the API and the SMS simulator over real HTTP, real RQ workers."""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.api import create_app
from app.auth.models import Role
from app.auth.service import create_token
from simulator.app import create_app as create_simulator
from simulator.client import SimulatorClient
from simulator.config import SimulatorConfig
from simulator.server import BackgroundServer
from tests.conftest import API_PORT, SIMULATOR_PORT, TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
TABLES = (
    "inbound_pending, webhook_signatures, receipts, messages, callouts, needs, incidents, audit_events, "
    "credential_reviews, "
    "api_tokens, credentials, availability_windows, unavailable_periods, volunteer_organisations, "
    "volunteers, organisations, erased_phones, capacity_cells, capacity_refreshes, gap_counts, signups, "
    "phone_codes, consents, badge_issues, passport_links, badge_keys, activity_volunteers, activities, "
    "volunteer_milestones"
)


@pytest.fixture(scope="session")
def sim_config() -> SimulatorConfig:
    """The simulator's settings; tests may change fail_numbers and failure rates while it runs."""
    return SimulatorConfig(
        account_sid=os.environ["TWILIO_ACCOUNT_SID"],
        auth_token=os.environ["TWILIO_AUTH_TOKEN"],
        webhook_base_url=os.environ["PUBLIC_BASE_URL"],
        phone_number=os.environ["TWILIO_FROM_NUMBER"],
        latency_ms=20,
        seed=7,
    )


@pytest.fixture(scope="session")
def servers(engine: Engine, sim_config: SimulatorConfig) -> Iterator[None]:
    """The API and the simulator, each on its own real port."""
    api = BackgroundServer(create_app(), port=API_PORT).start()
    simulator = BackgroundServer(create_simulator(sim_config), port=SIMULATOR_PORT).start()
    yield
    simulator.stop()
    api.stop()


@pytest.fixture
def live(engine: Engine, servers: None, sim_config: SimulatorConfig) -> Iterator[Session]:
    """Empty tables, an empty queue and simulator, and a session whose commits are real."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    Redis.from_url(TEST_REDIS_URL).flushdb()
    sim_config.fail_numbers.clear()
    sim_config.transient_failure_rate = 0.0
    with SimulatorClient(f"http://127.0.0.1:{SIMULATOR_PORT}") as simulator:
        simulator.reset()
    session = Session(bind=engine, expire_on_commit=False)
    yield session
    session.close()
    with SimulatorClient(f"http://127.0.0.1:{SIMULATOR_PORT}") as simulator:
        simulator.reset()  # no status callback of this test reaches whatever test runs next


@pytest.fixture
def simulator(live: Session) -> Iterator[SimulatorClient]:
    """A client for the simulator's test endpoints."""
    with SimulatorClient(f"http://127.0.0.1:{SIMULATOR_PORT}") as client:
        yield client


@pytest.fixture
def api(live: Session) -> Iterator[httpx.Client]:
    """An HTTP client for the running API, signed in as a coordinator."""
    token = create_token(live, name="e2e", role=Role.coordinator)
    live.commit()
    with httpx.Client(
        base_url=f"http://127.0.0.1:{API_PORT}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


ARTIFACTS = ROOT / "test-artifacts"


def start_worker(
    processes: int = 1, *, args: tuple[str, ...] = (), **settings: str
) -> subprocess.Popen[bytes]:
    """`nvr worker` as its own process group, so a test can kill it hard; its log goes to test-artifacts/.

    Returns once its RQ workers are listening: a test that then stops PostgreSQL or Redis must not
    catch the worker in its start-up checks (it would exit, rightly, and send nothing).
    """
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "worker.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "worker", "--processes", str(processes), *args],
            cwd=ROOT,
            env={**os.environ, **settings},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    redis = Redis.from_url(TEST_REDIS_URL)
    wait_for(lambda: process.poll() is not None or listening(redis, process.pid) >= processes, timeout_s=60)
    assert process.poll() is None, "nvr worker exited while starting: see test-artifacts/worker.log"
    return process


def listening(redis: Redis, group: int) -> int:
    """How many registered RQ workers belong to process group `group` (one `nvr worker`)."""
    count = 0
    for worker in Worker.all(connection=redis):
        with contextlib.suppress(ProcessLookupError):  # a worker killed earlier, still registered
            count += worker.pid is not None and os.getpgid(worker.pid) == group
    return count


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    """Terminate a worker and its children."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


@pytest.fixture
def worker(live: Session) -> Iterator[subprocess.Popen[bytes]]:
    """A real RQ worker (with scheduler and reconciler) running for the test."""
    process = start_worker()
    yield process
    stop_worker(process)


def wait_for(condition: Callable[[], Any], *, timeout_s: float = 20.0, every_s: float = 0.1) -> Any:
    """Poll until `condition()` is truthy; fail the test with what it last returned."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"condition not met in {timeout_s} s; last value: {last!r}")
