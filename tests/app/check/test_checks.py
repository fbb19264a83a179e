"""Recording, listing, confirming and withdrawing checks: who may, what each sees, what is refused,
and the audit trail, on the real API and database."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.check.models import BackgroundCheck, CheckLevel, CheckScheme
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import organisations_named, today_uk
from tests.app.check.helpers import NUMBER, RED_CROSS, ST_JOHN, check_body, days_ago, record
from tests.app.reserve import add_volunteer
from tests.conftest import bearer, is_problem


@pytest.fixture
def red_cross(db: Session) -> dict[str, str]:
    """Headers of the British Red Cross's verifier (St John exists too)."""
    organisations_named(db, names=[RED_CROSS, ST_JOHN])
    return bearer(db, Role.org_verifier, organisation=RED_CROSS)


def checks_path(volunteer: Volunteer) -> str:
    return f"/api/v1/passport/volunteers/{volunteer.id}/checks"


def member(db: Session, organisation: str = RED_CROSS) -> Volunteer:
    volunteer = add_volunteer(db, km=1, organisations=[organisation])
    db.commit()
    return volunteer


def test_an_organisation_records_a_check_for_its_member_and_sees_its_number(
    client: TestClient, db: Session, red_cross: dict[str, str]
) -> None:
    volunteer = member(db)
    body = record(client, red_cross, volunteer.id, organisation=None)
    assert body["organisation"] == RED_CROSS
    assert (body["scheme"], body["level"], body["workforce"]) == ("dbs", "enhanced_barred", "children")
    assert body["certificate_number"] == NUMBER
    assert body["state"] == "current" and body["withdrawn_at"] is None
    assert body["recorded_by"].endswith("test-org_verifier")
    check = db.get_one(BackgroundCheck, body["id"])
    assert check.volunteer_id == volunteer.id and check.level is CheckLevel.enhanced_barred
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "check.recorded")).all()
    assert event.entity_type == "background_check" and event.entity_id == check.id
    assert event.detail["volunteer_id"] == volunteer.id and event.detail["level"] == "enhanced_barred"
    assert NUMBER not in str(event.detail)  # ids and codes only
    listed = client.get(checks_path(volunteer), headers=red_cross)
    assert listed.status_code == 200 and [c["certificate_number"] for c in listed.json()] == [NUMBER]


def test_an_organisation_cannot_see_or_record_for_anyone_but_its_members(
    client: TestClient, db: Session, red_cross: dict[str, str], admin: dict[str, str]
) -> None:
    theirs = member(db, ST_JOHN)
    erased = member(db)
    db.get_one(Volunteer, erased.id).status = VolunteerStatus.erased
    db.commit()
    unknown = is_problem(
        client.post("/api/v1/passport/volunteers/999999/checks", json=check_body(), headers=red_cross), 404
    )
    for volunteer in (theirs, erased):
        refused = is_problem(client.post(checks_path(volunteer), json=check_body(), headers=red_cross), 404)
        assert refused["detail"] == unknown["detail"].replace("999999", str(volunteer.id))
        is_problem(client.get(checks_path(volunteer), headers=red_cross), 404)
    # St John's check of its own member does not exist for the Red Cross.
    check = record(client, admin, theirs.id, organisation=ST_JOHN)
    path = f"/api/v1/passport/checks/{check['id']}"
    is_problem(
        client.patch(path, json={"update_service_checked_on": days_ago(1).isoformat()}, headers=red_cross),
        404,
    )
    is_problem(client.post(f"{path}/withdraw", json={"reason": "no"}, headers=red_cross), 404)
    assert db.scalar(select(BackgroundCheck.withdrawn_at).where(BackgroundCheck.id == check["id"])) is None


def test_an_organisation_records_only_its_own_checks_and_changes_only_those(
    client: TestClient, db: Session, red_cross: dict[str, str], admin: dict[str, str]
) -> None:
    shared = add_volunteer(db, km=1, organisations=[RED_CROSS, ST_JOHN])
    db.commit()
    is_problem(
        client.post(checks_path(shared), json=check_body(organisation=ST_JOHN), headers=red_cross), 403
    )
    theirs = record(client, admin, shared.id, organisation=ST_JOHN)
    ours = record(client, red_cross, shared.id)
    listed = {c["id"]: c for c in client.get(checks_path(shared), headers=red_cross).json()}
    # Both are seen (a member's), but only its own check's number.
    assert listed[ours["id"]]["certificate_number"] == NUMBER
    assert listed[theirs["id"]]["certificate_number"] is None
    assert listed[theirs["id"]]["organisation"] == ST_JOHN
    path = f"/api/v1/passport/checks/{theirs['id']}"
    is_problem(client.post(f"{path}/withdraw", json={"reason": "not ours"}, headers=red_cross), 403)
    is_problem(
        client.patch(path, json={"update_service_checked_on": days_ago(1).isoformat()}, headers=red_cross),
        403,
    )


def test_admins_record_any_check_and_see_every_number_coordinators_none(
    client: TestClient, db: Session, admin: dict[str, str], coordinator: dict[str, str]
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    missing = is_problem(
        client.post(checks_path(volunteer), json=check_body(organisation=None), headers=admin), 422
    )
    assert "organisation" in missing["detail"]
    check = record(client, admin, volunteer.id, organisation="Cumbria County Council")
    assert check["certificate_number"] == NUMBER and check["organisation"] == "Cumbria County Council"
    listed = client.get(checks_path(volunteer), headers=coordinator)
    assert listed.status_code == 200
    [seen] = listed.json()
    assert seen["id"] == check["id"] and seen["level"] == "enhanced_barred"
    assert seen["certificate_number"] is None and NUMBER not in listed.text
    assert client.get(checks_path(volunteer), headers=admin).json()[0]["certificate_number"] == NUMBER
    # A coordinator reads checks but records and changes none.
    is_problem(client.post(checks_path(volunteer), json=check_body(), headers=coordinator), 403)
    path = f"/api/v1/passport/checks/{check['id']}"
    is_problem(client.post(f"{path}/withdraw", json={"reason": "x"}, headers=coordinator), 403)
    is_problem(
        client.patch(path, json={"update_service_checked_on": days_ago(1).isoformat()}, headers=coordinator),
        403,
    )


def test_a_forum_viewer_and_no_token_get_nothing(
    client: TestClient, db: Session, viewer: dict[str, str], admin: dict[str, str]
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    check = record(client, admin, volunteer.id)
    path = f"/api/v1/passport/checks/{check['id']}"
    is_problem(client.get(checks_path(volunteer), headers=viewer), 403)
    is_problem(client.post(checks_path(volunteer), json=check_body(), headers=viewer), 403)
    is_problem(
        client.patch(path, json={"update_service_checked_on": days_ago(1).isoformat()}, headers=viewer), 403
    )
    is_problem(client.post(f"{path}/withdraw", json={"reason": "x"}, headers=viewer), 403)
    is_problem(client.get(checks_path(volunteer)), 401)
    assert db.scalar(select(BackgroundCheck.withdrawn_at).where(BackgroundCheck.id == check["id"])) is None


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"level": "enhanced", "workforce": None}, "names its workforce"),
        ({"level": "standard", "workforce": "adults"}, "not for a workforce"),
        ({"level": "basic", "workforce": "both"}, "not for a workforce"),
        ({"pvg_renewal_on": "2030-01-01"}, "only a PVG"),
        ({"scheme": "pvg"}, "renewal date"),
        ({"scheme": "pvg", "level": "enhanced", "pvg_renewal_on": "2030-01-01"}, "enhanced_barred"),
        (
            {"scheme": "pvg", "pvg_renewal_on": "2030-01-01", "update_service_checked_on": "2025-01-01"},
            "does not cover PVG",
        ),
        ({"certificate_date": "2999-01-01"}, "between 1900 and today"),
        ({"update_service_checked_on": "2999-01-01"}, "between 1900 and today"),
        ({"certificate_date": "1800-01-01"}, "between 1900 and today"),
        ({"update_service_checked_on": "2001-01-01"}, "before the certificate date"),
        ({"scheme": "pvg", "pvg_renewal_on": "2001-01-01"}, "after the certificate date"),
        ({"level": "top_secret"}, "level"),
        ({"workforce": "pets"}, "workforce"),
        ({"scheme": "accessni"}, "scheme"),
        ({"certificate_number": "  "}, "certificate_number"),
        ({"certificate_number": "0012<script>"}, "certificate_number"),
        ({"certificate_number": "1" * 41}, "certificate_number"),
        ({"shoe_size": 9}, "shoe_size"),
    ],
)
def test_bad_checks_are_clear_422s_and_write_nothing(
    client: TestClient, db: Session, admin: dict[str, str], fields: dict[str, Any], says: str
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    refused = is_problem(client.post(checks_path(volunteer), json=check_body(**fields), headers=admin), 422)
    assert says in refused["detail"], refused["detail"]
    assert db.scalar(select(BackgroundCheck.id)) is None


def test_the_database_refuses_what_the_law_does_not_allow(db: Session, admin: dict[str, str]) -> None:
    volunteer = add_volunteer(db, km=1)
    [organisation] = organisations_named(db, names=[RED_CROSS])
    base = {
        "volunteer_id": volunteer.id,
        "scheme": CheckScheme.dbs,
        "certificate_number": NUMBER,
        "certificate_date": days_ago(10),
        "organisation_id": organisation.id,
        "recorded_by": "test",
    }
    for wrong in (
        {"level": CheckLevel.enhanced, "workforce": None},
        {"level": CheckLevel.basic, "workforce": "adults"},
        {"level": CheckLevel.enhanced_barred, "workforce": "adults", "scheme": CheckScheme.pvg},
        {"level": CheckLevel.basic, "scheme": CheckScheme.pvg, "pvg_renewal_on": today_uk()},
        {"level": CheckLevel.basic, "withdrawn_reason": "no time"},
        {"level": CheckLevel.basic, "update_service_checked_on": days_ago(20)},
    ):
        savepoint = db.begin_nested()
        db.add(BackgroundCheck(**{**base, **wrong}))
        with pytest.raises(IntegrityError, match="ck_background_checks_"):
            db.flush()
        savepoint.rollback()
    db.add(BackgroundCheck(**base, level=CheckLevel.basic))
    db.flush()


def test_the_update_service_rechecked_and_a_pvg_membership_renewed(
    client: TestClient, db: Session, red_cross: dict[str, str]
) -> None:
    volunteer = member(db)
    dbs = record(client, red_cross, volunteer.id)
    pvg = record(
        client,
        red_cross,
        volunteer.id,
        scheme="pvg",
        workforce="adults",
        pvg_renewal_on=days_ago(-400).isoformat(),
    )
    checked = days_ago(2).isoformat()
    response = client.patch(
        f"/api/v1/passport/checks/{dbs['id']}", json={"update_service_checked_on": checked}, headers=red_cross
    )
    assert response.status_code == 200, response.text
    assert response.json()["update_service_checked_on"] == checked
    renewed = (today_uk().replace(day=1, month=1)).replace(year=today_uk().year + 5).isoformat()
    response = client.patch(
        f"/api/v1/passport/checks/{pvg['id']}", json={"pvg_renewal_on": renewed}, headers=red_cross
    )
    assert response.status_code == 200 and response.json()["renew_by"] == renewed
    for check, fields, says in (
        (pvg, {"update_service_checked_on": checked}, "does not cover PVG"),
        (dbs, {"pvg_renewal_on": renewed}, "only a PVG"),
        (dbs, {"update_service_checked_on": days_ago(101).isoformat()}, "before the certificate date"),
        (dbs, {"update_service_checked_on": days_ago(-1).isoformat()}, "between 1900 and today"),
        (dbs, {}, "give update_service_checked_on"),
        (dbs, {"certificate_number": "X"}, "certificate_number"),
    ):
        refused = is_problem(
            client.patch(f"/api/v1/passport/checks/{check['id']}", json=fields, headers=red_cross), 422
        )
        assert says in refused["detail"], refused["detail"]
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "check.updated").order_by(AuditEvent.id)
    ).all()
    assert [e.entity_id for e in events] == [dbs["id"], pvg["id"]]
    assert events[0].detail["update_service_checked_on"] == checked
    is_problem(
        client.patch(
            "/api/v1/passport/checks/999999", json={"update_service_checked_on": checked}, headers=red_cross
        ),
        404,
    )


def test_a_withdrawn_check_stays_with_its_reason_and_cannot_be_changed(
    client: TestClient, db: Session, red_cross: dict[str, str]
) -> None:
    volunteer = member(db)
    check = record(client, red_cross, volunteer.id)
    path = f"/api/v1/passport/checks/{check['id']}"
    is_problem(client.post(f"{path}/withdraw", json={"reason": "   "}, headers=red_cross), 422)
    is_problem(client.post(f"{path}/withdraw", json={}, headers=red_cross), 422)
    response = client.post(
        f"{path}/withdraw", json={"reason": " Recorded against the wrong person "}, headers=red_cross
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["withdrawn_at"] is not None and body["withdrawn_reason"] == "Recorded against the wrong person"
    )
    is_problem(client.post(f"{path}/withdraw", json={"reason": "again"}, headers=red_cross), 409)
    is_problem(
        client.patch(path, json={"update_service_checked_on": days_ago(1).isoformat()}, headers=red_cross),
        409,
    )
    [listed] = client.get(checks_path(volunteer), headers=red_cross).json()
    assert listed["withdrawn_reason"] == "Recorded against the wrong person"
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "check.withdrawn")).all()
    assert event.entity_id == check["id"] and "wrong person" not in str(event.detail)
