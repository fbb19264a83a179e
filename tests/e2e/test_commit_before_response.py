"""A 2xx means the write is committed: over real HTTP, commits that fail or are slow show in the answer."""

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import create_token
from app.message.models import Message
from app.volunteer.models import Volunteer, VolunteerStatus
from tests.app.reserve import add_volunteer
from tests.app.twilio import sms
from tests.conftest import API_PORT

AtCommit = Callable[..., None]


@pytest.fixture
def at_commit(engine: Engine, live: Session) -> Iterator[AtCommit]:
    """Make every commit that wrote a row of a table run `action` ('fail' or 'sleep') at COMMIT time.

    A deferred constraint trigger fires when the transaction commits, after every statement of the
    request succeeded: the one moment a response sent too early cannot know about.
    """
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION test_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF TG_ARGV[0] = 'fail' THEN RAISE EXCEPTION 'commit refused by the test'; END IF; "
                "PERFORM pg_sleep(1.5); RETURN NULL; END $$"
            )
        )

    def install(action: str, table: str = "volunteers") -> None:
        tables.append(table)
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER IF EXISTS test_at_commit ON {table}"))
            conn.execute(
                text(
                    f"CREATE CONSTRAINT TRIGGER test_at_commit AFTER INSERT OR UPDATE ON {table} "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    f"EXECUTE FUNCTION test_at_commit('{action}')"
                )
            )

    tables: list[str] = []
    yield install
    live.rollback()  # its open transaction would block the DROP
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DROP TRIGGER IF EXISTS test_at_commit ON {table}"))
        conn.execute(text("DROP FUNCTION test_at_commit()"))


@pytest.fixture
def admin_api(live: Session) -> Iterator[httpx.Client]:
    """An HTTP client for the running API, signed in as an admin."""
    token = create_token(live, name="e2e-admin", role=Role.admin)
    live.commit()
    with httpx.Client(
        base_url=f"http://127.0.0.1:{API_PORT}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def test_an_erasure_whose_commit_fails_is_an_error_not_204(
    live: Session, admin_api: httpx.Client, at_commit: AtCommit
) -> None:
    person = add_volunteer(live, km=0)
    live.commit()
    at_commit("fail")
    response = admin_api.delete(f"/api/v1/volunteers/{person.id}")
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    live.expire_all()
    kept = live.get(Volunteer, person.id)
    assert kept is not None and kept.status != VolunteerStatus.erased and kept.phone == person.phone


def test_a_stop_whose_commit_fails_is_not_acknowledged(
    live: Session, api: httpx.Client, at_commit: AtCommit
) -> None:
    person = add_volunteer(live, km=0)
    live.commit()
    at_commit("fail", "messages")  # the webhook stores the inbound message, then answers
    response = sms(api, person.phone or "", "STOP")  # type: ignore[arg-type]
    assert response.status_code == 500, response.text  # Twilio then tries the fallback URL
    live.expire_all()
    assert live.scalar(select(func.count()).select_from(Message)) == 0
    assert live.scalars(select(Volunteer.status).where(Volunteer.id == person.id)).one() == (
        VolunteerStatus.active
    )


def test_a_write_is_visible_to_others_once_it_is_answered(
    live: Session, api: httpx.Client, at_commit: AtCommit, engine: Engine
) -> None:
    at_commit("sleep")
    body = {
        "name": "Grace Hopper",
        "phone": "07911 123456",
        "location": {"type": "Point", "coordinates": [-2.935, 54.8925]},
    }
    started = time.monotonic()
    response = api.post("/api/v1/volunteers", json=body)
    assert response.status_code == 201, response.text
    with engine.connect() as other:
        seen = other.scalar(text("SELECT count(*) FROM volunteers WHERE id = :id"), response.json())
    assert seen == 1, f"answered after {time.monotonic() - started:.2f} s, but the row was not committed yet"
