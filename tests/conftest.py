"""Test fixtures: a real PostGIS database migrated with the real migrations, a real Redis."""

import os
import socket
import uuid
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_number() -> int | None:
    """Which pytest-xdist worker this process is (`make test-fast` runs two); None when not under xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name.removeprefix("gw")) if name.startswith("gw") else None


def per_worker_database(url: str) -> str:
    """Each xdist worker has a database of its own (`nvr_test_gw1`, ...): tests truncate tables."""
    number = worker_number()
    if number is None:
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_gw{number}").render_as_string(hide_password=False)


def per_worker_redis(url: str) -> str:
    """Each xdist worker has a Redis database of its own, counting down from the given one: tests flush it."""
    number = worker_number()
    if not number:
        return url
    parts = urlsplit(url)
    index = int(parts.path.strip("/") or 0) - number
    if index < 0:
        raise RuntimeError(f"TEST_REDIS_URL {url} leaves no Redis database for xdist worker {number}")
    return urlunsplit(parts._replace(path=f"/{index}"))


API_PORT = free_port()
SIMULATOR_PORT = free_port()
TEST_DATABASE_URL = per_worker_database(
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/nvr_test")
)
TEST_REDIS_URL = per_worker_redis(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
os.environ["TEST_DATABASE_URL"] = TEST_DATABASE_URL  # the suite's other conftests read these two
os.environ["TEST_REDIS_URL"] = TEST_REDIS_URL
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL
os.environ["ENVIRONMENT"] = "test"
# The SMS edge is the project's Twilio-compatible simulator, reached by the real twilio client.
os.environ["SMS_PROVIDER"] = "twilio"
os.environ["TWILIO_API_BASE"] = f"http://127.0.0.1:{SIMULATOR_PORT}"
os.environ["TWILIO_ACCOUNT_SID"] = "AC" + "0" * 32
os.environ["TWILIO_AUTH_TOKEN"] = "test-auth-token-for-the-simulator"
os.environ["TWILIO_FROM_NUMBER"] = "+447700900000"
os.environ["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{API_PORT}"
os.environ["SMS_RATE_PER_SECOND"] = "500"
# Faults are played fast: short backoff, a reconciler every second (the kill-point tests use the defaults).
os.environ["SEND_BACKOFF_BASE_S"] = "0.05"
os.environ["SEND_BACKOFF_CAP_S"] = "1"
os.environ["RECONCILE_EVERY_S"] = "1"

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from alembic import command  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.api import create_app  # noqa: E402
from app.api.webhooks import InlineConsequences, get_consequences  # noqa: E402
from app.area.service import area_around  # noqa: E402
from app.auth.models import Role  # noqa: E402
from app.auth.service import create_token  # noqa: E402
from app.schema import alembic_config  # noqa: E402
from app.volunteer.service import organisations_named  # noqa: E402


def reset_schema(engine: Engine) -> None:
    """Drop everything in the test database so the migrations run from empty."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def create_database_if_missing(url: str) -> None:
    """An xdist worker's database is made on first use, in the same cluster as the one it is named after."""
    target = make_url(url)
    maintenance = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        if (
            conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database})
            is None
        ):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    maintenance.dispose()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The test database, freshly migrated with the real Alembic migrations."""
    create_database_if_missing(TEST_DATABASE_URL)
    engine = create_engine(TEST_DATABASE_URL, pool_pre_ping=True)
    reset_schema(engine)
    command.upgrade(alembic_config(TEST_DATABASE_URL), "head")
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()


class TransactionSession(Session):
    """The test's session. The app's units of work commit and close it; only the test's end closes it."""

    def close(self) -> None:
        """Stay open with every loaded object when a unit of work of the app ends (`app_on_test_session`)."""

    def end(self) -> None:
        """Close for real, at the end of the test."""
        super().close()


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    """A session whose commits are savepoints inside the test's transaction."""
    session = TransactionSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.end()


@pytest.fixture
def app_on_test_session(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the app on the test's session: the one way tests swap the app's database session.

    Every unit of work the app opens (an HTTP request, a CLI command, a job, a live-stream poll) takes
    its session from `app.db.get_sessionmaker`, so each one is `db`: it commits a savepoint, rolls back
    to it when it raises, and the test's rollback undoes it all. Code that takes the engine itself (the
    lease and reconciler locks, a token's last use) still works outside the test's transaction.
    """
    monkeypatch.setattr("app.db.get_sessionmaker", lambda url=None: lambda: db)


@pytest.fixture
def client(app_on_test_session: None) -> Iterator[TestClient]:
    """The API on the test's session; like the real one it commits (a savepoint) before responding."""
    app = create_app()
    app.dependency_overrides[get_consequences] = InlineConsequences  # no workers here: act at once
    # Its own client address, so failed authentications counted in Redis never throttle another test.
    address = (f"test-{uuid.uuid4().hex[:12]}", 50000)
    with TestClient(app, raise_server_exceptions=False, client=address) as test_client:
        yield test_client


def is_problem(response: Any, status: int) -> dict[str, Any]:
    """The problem+json body of a response that must be one, with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def bearer(
    db: Session, role: Role, area: str | None = None, organisation: str | None = None
) -> dict[str, str]:
    """Authorization headers for a fresh token of `role` (an org_verifier's organisation is made when
    it does not exist yet)."""
    if role is Role.org_verifier:
        organisation = organisation or "Test Verifiers"
        organisations_named(db, names=[organisation])
    token = create_token(db, name=f"test-{role.value}", role=role, area_code=area, organisation=organisation)
    db.commit()  # a savepoint: a failing request's rollback must not take the token with it
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    """Headers of an admin."""
    return bearer(db, Role.admin)


@pytest.fixture
def coordinator(db: Session) -> dict[str, str]:
    """Headers of a coordinator."""
    return bearer(db, Role.coordinator)


@pytest.fixture
def viewer(db: Session) -> dict[str, str]:
    """Headers of a forum viewer bound to Cheshire's area code (E48000004), a circle here."""
    area_around(db, code="E48000004", name="Cheshire", lon=-2.55, lat=53.2, radius_km=25, actor="test")
    db.commit()
    return bearer(db, Role.lrf_viewer, area="E48000004")
