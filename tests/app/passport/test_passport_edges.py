"""The passport at its edges: claims made at /join, the verifiers' page, the CLI, STATUS, the migration."""

import re
from datetime import timedelta

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.auth.models import ApiToken, Role
from app.auth.service import create_token
from app.schema import alembic_config
from app.volunteer.models import Credential, CredentialStatus, Volunteer
from app.volunteer.service import organisations_named, today_uk
from cli.main import cli
from tests.app.passport.test_verification import RED_CROSS, credential_of, member
from tests.app.reserve import add_volunteer, next_phone
from tests.app.signup.test_signup import by_phone, join, the_code, verify
from tests.app.test_schema import SCRATCH_URL, ensure_database
from tests.app.volunteer.test_importer import GOOD, PHONES
from tests.app.webhook.test_self_service import last_answer
from tests.app.webhook.test_service import text as sms_from
from tests.conftest import bearer, reset_schema

TOKEN_FIELD = re.compile(r'name="token" value="([^"]+)"')


def test_a_claim_made_at_join_is_pending_and_in_its_organisations_queue(
    client: TestClient, db: Session
) -> None:
    organisations_named(db, names=[RED_CROSS])
    red_cross = bearer(db, Role.org_verifier, organisation=RED_CROSS)
    phone = next_phone()
    started = join(client, phone, skills=["first_aid", "sandbagging"], organisations=[RED_CROSS])
    assert verify(client, started["signup"], the_code(db, phone)).status_code == 200
    volunteer = by_phone(db, phone)
    assert volunteer is not None
    statuses = db.scalars(select(Credential.status).where(Credential.volunteer_id == volunteer.id)).all()
    assert statuses == [CredentialStatus.pending, CredentialStatus.pending]
    queue = client.get("/api/v1/verifications", headers=red_cross).json()
    assert [(i["volunteer_id"], i["skill"]) for i in queue["items"]] == [
        (volunteer.id, "first_aid"),
        (volunteer.id, "sandbagging"),
    ]


def test_the_page_signs_in_shows_the_queue_and_verifies(client: TestClient, db: Session) -> None:
    organisations_named(db, names=[RED_CROSS])
    token = create_token(db, name="Red Cross desk", role=Role.org_verifier, organisation=RED_CROSS)
    coordinator = create_token(db, name="coordinator", role=Role.coordinator)
    volunteer = member(db, RED_CROSS, name="Grace <b>Hopper</b>")
    db.commit()
    signin = client.get("/verify")
    assert signin.status_code == 200 and 'type="password"' in signin.text
    assert "form-action 'self'" in signin.headers["content-security-policy"]
    assert "<script" not in signin.text
    assert client.post("/verify", data={"token": coordinator}).status_code == 403
    assert client.post("/verify", data={"token": "nvr_wrong"}).status_code == 401
    queue = client.post("/verify", data={"token": token})
    assert queue.status_code == 200, queue.text
    assert "Grace &lt;b&gt;Hopper&lt;/b&gt;" in queue.text and "First aid" in queue.text
    found = TOKEN_FIELD.search(queue.text)
    assert found is not None and found.group(1) == token
    credential_id = credential_of(db, volunteer).id
    form = {
        "token": token,
        "certificate_number": "SJ-1",
        "course": "First Aid at Work",
        "certified_on": "2025-05-01",
    }
    bad = client.post(f"/verify/{credential_id}/verify", data={**form, "certified_on": "not a day"})
    assert bad.status_code == 422 and "Not verified" in bad.text
    done = client.post(f"/verify/{credential_id}/verify", data=form)
    assert done.status_code == 200 and "Verified Grace &lt;b&gt;Hopper&lt;/b&gt;" in done.text
    db.expire_all()
    assert credential_of(db, volunteer).status is CredentialStatus.verified
    assert "Nothing is waiting" in done.text
    assert client.get("/verify/static/verify.css").status_code == 200


@pytest.mark.usefixtures("app_on_test_session")
def test_the_cli_binds_a_verifier_to_a_known_organisation(db: Session) -> None:
    organisations_named(db, names=[RED_CROSS])
    db.commit()
    runner = CliRunner()
    missing = runner.invoke(cli, ["token", "create", "--role", "org_verifier", "--name", "desk"])
    assert missing.exit_code == 2 and "--organisation" in missing.output
    unknown = runner.invoke(
        cli, ["token", "create", "--role", "org_verifier", "--name", "desk", "--organisation", "Nobody"]
    )
    assert unknown.exit_code == 2 and "does not exist" in unknown.output
    made = runner.invoke(
        cli, ["token", "create", "--role", "org_verifier", "--name", "desk", "--organisation", RED_CROSS]
    )
    assert made.exit_code == 0, made.output
    row = db.scalars(select(ApiToken).where(ApiToken.name == "desk")).one()
    assert row.role is Role.org_verifier and row.organisation_id is not None
    listed = runner.invoke(cli, ["token", "list"])
    assert RED_CROSS in listed.output


def test_status_says_which_credentials_wait_for_verification_or_expire_soon(
    client: TestClient, db: Session
) -> None:
    volunteer = add_volunteer(db, km=1, skills=("first_aid",), expires_on=today_uk() + timedelta(days=30))
    pending = add_volunteer(db, km=1, skills=("sandbagging",), verified=False, expires_on=None)
    db.commit()
    sms_from(client, volunteer, "STATUS")
    soon = today_uk() + timedelta(days=30)
    assert f"first_aid (expires soon, {soon.day} {soon:%b %Y})" in last_answer(db, volunteer).body
    sms_from(client, pending, "STATUS")
    assert "sandbagging (not yet verified)" in last_answer(db, pending).body


def test_the_migration_makes_credentials_with_verified_at_verified() -> None:
    ensure_database()
    url = SCRATCH_URL.render_as_string(hide_password=False)
    engine = create_engine(url)
    reset_schema(engine)
    config = alembic_config(url)
    command.upgrade(config, "0017")
    with engine.begin() as conn:
        vid = conn.scalar(
            text("INSERT INTO volunteers (name, status, languages) VALUES ('A', 'active', '{}') RETURNING id")
        )
        conn.execute(
            text(
                "INSERT INTO credentials (volunteer_id, skill_code, level, verified_at) VALUES"
                " (:v, 'first_aid', 1, '2026-01-02T03:04:05Z'), (:v, 'sandbagging', 1, NULL)"
            ),
            {"v": vid},
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT skill_code, status::text FROM credentials")).all())
        needs = dict(conn.execute(text("SELECT code, needs_verification FROM skills")).all())
    engine.dispose()
    assert rows == {"first_aid": "verified", "sandbagging": "pending"}
    assert needs["first_aid"] and needs["flood_rescue"] and needs["swift_water"]
    assert not needs["sandbagging"] and not needs["driver_4x4"]


def test_an_imported_passport_is_pending_until_its_organisation_verifies_it(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    imported = client.post(
        "/api/v1/volunteers/import",
        files={"file": ("reserve.csv", GOOD.encode(), "text/csv")},
        headers=coordinator,
    )
    assert imported.status_code == 200, imported.text
    statuses = db.scalars(select(Credential.status).join(Volunteer).where(Volunteer.phone.in_(PHONES))).all()
    assert len(statuses) == 3 and set(statuses) == {CredentialStatus.pending}
    red_cross = bearer(db, Role.org_verifier, organisation=RED_CROSS)
    queue = client.get("/api/v1/verifications", headers=red_cross).json()
    assert sorted(i["skill"] for i in queue["items"]) == ["chainsaw", "first_aid"]  # Ada's: a member
