"""What the API and the workers write to stderr: ids, masked numbers and an access log, never a person."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import create_token
from app.message.models import Message
from tests.app.reserve import incident_body
from tests.e2e.conftest import wait_for
from tests.e2e.processes import Api, Process

# Distinctive enough that any appearance in a log is this person's data.
REJECTED = {"name": "Zebedee Quartermaine", "phone": "07911 193841", "lon": -2.93517, "lat": 54.89263}
CALLED = [
    {
        "name": f"Philippa Ravenscroft {i}",
        "phone": f"07911 18{i}619",
        "lon": -2.9361 - i / 1000,
        "lat": 54.8931,
    }
    for i in range(3)
]


def traces_of(person: dict[str, object]) -> list[str]:
    """Every way the person's name, number or home could show up in a log line."""
    digits = str(person["phone"]).replace(" ", "")
    return [
        str(person["name"]),
        digits,
        "+44" + digits[1:],
        digits[1:],
        f"{person['lat']:.4f}",
        f"{-float(str(person['lon'])):.4f}",
    ]


def body_of(person: dict[str, object]) -> dict[str, object]:
    return {
        "name": person["name"],
        "phone": person["phone"],
        "location": {"type": "Point", "coordinates": [person["lon"], person["lat"]]},
        # A skill that needs no organisation's check, so those created here can be called at once.
        "skills": [{"code": "sandbagging", "level": 2, "expires_on": "2099-01-01"}],
    }


@pytest.fixture
def refuse_volunteer_inserts(engine: Engine) -> Iterator[None]:
    """A constraint every new volunteer row breaks: PostgreSQL then reports the whole failing row."""
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE volunteers ADD CONSTRAINT ck_test_refuse CHECK (false) NOT VALID"))
    yield
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE volunteers DROP CONSTRAINT IF EXISTS ck_test_refuse"))


def test_a_rejected_insert_logs_no_personal_data(
    live: Session, tmp_path: Path, refuse_volunteer_inserts: None
) -> None:
    token = create_token(live, name="log tester", role=Role.coordinator)
    live.commit()
    api = Api(tmp_path / "api.log", SMS_PROVIDER="console")
    try:
        response = httpx.post(
            api.url + "/api/v1/volunteers?secret=hunter2",
            json=body_of(REJECTED),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 500, response.text
        assert REJECTED["name"] not in response.text
    finally:
        api.stop()
    log = api.output()
    assert "ck_test_refuse" in log  # the failure itself is still diagnosable
    for trace in traces_of(REJECTED):
        assert trace not in log, f"{trace!r} leaked into the API log:\n{log}"
    assert token not in log and "hunter2" not in log
    access = [line for line in log.splitlines() if "http.request" in line and "/api/" in line]
    assert len(access) == 1, log
    assert re.search(r"method=POST", access[0]) and "path=/api/v1/volunteers" in access[0]
    assert "status=500" in access[0] and "token='log tester'" in access[0]
    assert re.search(r"duration_ms=\d", access[0])


def test_console_sends_log_ids_and_masked_numbers_only(live: Session, tmp_path: Path) -> None:
    token = create_token(live, name="console tester", role=Role.coordinator)
    live.commit()
    api = Api(tmp_path / "api.log", SMS_PROVIDER="console")
    worker = Process(tmp_path / "worker.log", "worker", SMS_PROVIDER="console")
    try:
        headers = {"Authorization": f"Bearer {token}"}
        for person in CALLED:
            created = httpx.post(api.url + "/api/v1/volunteers", json=body_of(person), headers=headers)
            assert created.status_code == 201, created.text
        declared = httpx.post(
            api.url + "/api/v1/incidents",
            json=incident_body(needs=[{"skill": "sandbagging", "count": 1}], overask=3),
            headers=headers,
        )
        assert declared.status_code == 201, declared.text

        def sent() -> int:
            live.expire_all()
            query = select(func.count()).select_from(Message).where(Message.provider_sid.is_not(None))
            return int(live.scalar(query) or 0)

        wait_for(lambda: sent() == 3, timeout_s=30)
    finally:
        worker.stop()
        api.stop()
    log = worker.output() + api.output()
    sends = [line for line in worker.output().splitlines() if "sms.console" in line]
    assert len(sends) == 3, worker.output()
    assert all(re.search(r"to=\+4479\*+\d\d\b", line) for line in sends), sends
    for person in CALLED:
        for trace in traces_of(person):
            assert trace not in log, f"{trace!r} leaked into a log:\n{log}"
    assert "River Eden" not in log and "Reply YES" not in log  # no message bodies either
