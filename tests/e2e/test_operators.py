"""What an operator sees: one-line errors and exit codes, token commands, health, throttled guessing."""

import re
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import ApiToken
from app.auth.throttle import FAILURE_LIMIT
from tests.app.mapdata import CARLISLE, add_area
from tests.conftest import API_PORT, TEST_DATABASE_URL, free_port
from tests.e2e.processes import Api, nvr

PASSWORD = "pa55-w0rd-not-for-logs"


def dead_database_urls() -> list[str]:
    """A port nobody listens on, a database that does not exist, a host that does not resolve."""
    return [
        f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{free_port()}/nvr",
        TEST_DATABASE_URL.rsplit("/", 1)[0] + "/nvr_no_such_database",
        f"postgresql+psycopg://postgres:{PASSWORD}@nvr-no-such-host.invalid:5432/nvr",
    ]


def dead_redis_url() -> str:
    return f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    code, stderr = result.returncode, result.stderr
    assert code == 1, (code, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr and PASSWORD not in stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ("token", "create", "--role", "admin", "--name", "x"),
        ("token", "list"),
        ("areas", "refresh-capacity"),
    ],
)
def test_a_wrong_database_url_is_one_line_and_exit_1(command: tuple[str, ...]) -> None:
    assert_one_line_error(nvr(*command, DATABASE_URL=dead_database_urls()[0]), "database", "DATABASE_URL")


@pytest.mark.parametrize("url", dead_database_urls())
def test_every_kind_of_wrong_database_is_one_line(url: str) -> None:
    assert_one_line_error(nvr("db", "upgrade", DATABASE_URL=url), "database", "DATABASE_URL")


def test_a_database_url_that_is_no_url_is_one_line() -> None:
    assert_one_line_error(nvr("token", "list", DATABASE_URL="nonsense://x"), "DATABASE_URL")


def test_a_worker_without_redis_or_database_says_so_and_exits_1() -> None:
    assert_one_line_error(nvr("worker", REDIS_URL=dead_redis_url()), "Redis", "Connection refused", "***")
    assert_one_line_error(nvr("worker", DATABASE_URL=dead_database_urls()[0]), "database")


def test_token_commands_from_create_to_revoke(live: Session, servers: None) -> None:
    add_area(live, "HOME", CARLISLE)
    created = nvr(
        "token", "create", "--role", "coordinator", "--name", "Duty desk", "--expires-in-days", "30"
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    forum = nvr("token", "create", "--role", "lrf_viewer", "--name", "Forum", "--area", "HOME")
    assert forum.returncode == 0, forum.stderr
    api = f"http://127.0.0.1:{API_PORT}"
    assert (
        httpx.get(api + "/api/v1/volunteers", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )

    listed = nvr("token", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.strip().splitlines()
    assert re.split(r"\s{2,}", header) == [
        "id", "name", "role", "area", "organisation", "created", "expires", "last used", "revoked"
    ]  # fmt: skip
    desk = next(re.split(r"\s{2,}", r) for r in rows if "Duty desk" in r)
    assert desk[2:5] == ["coordinator", "-", "-"] and desk[6].endswith("UTC") and desk[7].endswith("UTC")
    assert desk[8] == "-"
    assert any("Forum" in r and "HOME" in r for r in rows)
    hashes = live.scalars(select(ApiToken.token_hash)).all()
    assert secret not in listed.stdout and not any(h in listed.stdout for h in hashes)

    revoked = nvr("token", "revoke", "--name", "Duty desk")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    response = httpx.get(api + "/api/v1/volunteers", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert "Duty desk" not in nvr("token", "revoke", "--name", "Duty desk").stdout  # no live one left


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (("--role", "lrf_viewer", "--name", "lost", "--area", "E48999999"), "does not exist"),
        (("--role", "coordinator", "--name", "wide", "--area", "HOME"), "only for lrf_viewer"),
        (("--role", "admin", "--name", "n" * 118), "at most 103"),
        (("--role", "admin", "--name", "a\tb"), "control"),
        (("--role", "admin", "--name", "x", "--expires-in-days", "0"), "--expires-in-days"),
    ],
)
def test_token_create_refuses_bad_options(live: Session, options: tuple[str, ...], why: str) -> None:
    add_area(live, "HOME", CARLISLE)
    result = nvr("token", "create", *options)
    assert result.returncode == 2 and why in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_healthz_reports_each_dependency(live: Session, tmp_path: Path) -> None:
    up = Api(tmp_path / "up.log")
    redis_down = Api(tmp_path / "redis.log", REDIS_URL=dead_redis_url())
    db_down = Api(tmp_path / "db.log", DATABASE_URL=dead_database_urls()[0])
    try:
        ok = httpx.get(up.url + "/healthz")
        assert (ok.status_code, ok.json()) == (
            200,
            {"status": "ok", "checks": {"database": "ok", "redis": "ok"}},
        )
        for api, down in ((redis_down, "redis"), (db_down, "database")):
            answer = httpx.get(api.url + "/healthz")
            assert answer.status_code == 503
            assert answer.json()["status"] == "unavailable" and answer.json()["checks"][down] == "unavailable"
            assert PASSWORD not in answer.text and "127.0.0.1" not in answer.text
        assert httpx.get(redis_down.url + "/healthz").json()["checks"]["database"] == "ok"
        assert httpx.get(db_down.url + "/healthz").json()["checks"]["redis"] == "ok"
    finally:
        for api in (up, redis_down, db_down):
            api.stop()
    assert PASSWORD not in redis_down.output() + db_down.output()


def guess_until_throttled(url: str, good: str) -> None:
    """Wrong tokens until the limit, then a 429 problem with Retry-After; the good token still passes."""
    for i in range(FAILURE_LIMIT):
        wrong = httpx.get(url + "/api/v1/volunteers", headers={"Authorization": f"Bearer nvr_guess{i}"})
        assert wrong.status_code == 401, (i, wrong.text)
    refused = httpx.get(url + "/api/v1/volunteers", headers={"Authorization": "Bearer nvr_guess-after"})
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["status"] == 429
    # Someone else's guesses from a shared address never lock a coordinator out.
    allowed = httpx.get(url + "/api/v1/volunteers", headers={"Authorization": f"Bearer {good}"})
    assert allowed.status_code == 200, allowed.text


def test_repeated_failed_authentication_is_throttled_and_audited(live: Session, servers: None) -> None:
    created = nvr("token", "create", "--role", "coordinator", "--name", "desk")
    good = created.stdout.strip().splitlines()[-1]
    guess_until_throttled(f"http://127.0.0.1:{API_PORT}", good)
    events = live.scalars(select(AuditEvent).where(AuditEvent.action == "auth.throttled")).all()
    assert [(e.actor, e.detail["failures"]) for e in events] == [("client:127.0.0.1", FAILURE_LIMIT)]
    assert "nvr_guess" not in str(events[0].detail)


def test_with_redis_down_the_api_answers_and_still_throttles(live: Session, tmp_path: Path) -> None:
    created = nvr("token", "create", "--role", "coordinator", "--name", "desk")
    good = created.stdout.strip().splitlines()[-1]
    api = Api(tmp_path / "api.log", REDIS_URL=dead_redis_url())
    try:
        answer = httpx.get(api.url + "/api/v1/volunteers", headers={"Authorization": f"Bearer {good}"})
        assert answer.status_code == 200, answer.text
        guess_until_throttled(api.url, good)
    finally:
        api.stop()
