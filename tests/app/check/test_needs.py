"""A need that asks for a check: who selection calls, what the preview counts as left out for want of
one, and the check on the volunteer's own passport page (never its number)."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.incident.models import Need
from app.volunteer.models import Volunteer
from app.volunteer.service import today_uk
from tests.app.badge.test_passport import link_of
from tests.app.callout.test_selection import called_ids, declare
from tests.app.check.helpers import NUMBER, days_ago, record, years_before
from tests.app.reserve import add_volunteer, incident_body
from tests.app.webhook.test_service import text
from tests.conftest import is_problem

PREVIEW = "/api/v1/incidents/preview"


def need(level: str | None, workforce: str | None = None, count: int = 20) -> dict[str, Any]:
    body: dict[str, Any] = {"skill": "first_aid", "count": count, "check_level": level}
    if workforce is not None:
        body["check_workforce"] = workforce
    return body


@pytest.fixture
def people(db: Session, client: TestClient, admin: dict[str, str]) -> dict[str, Volunteer]:
    """First-aiders 1 to 9 km from Carlisle, each with the checks their name says."""
    made: dict[str, Volunteer] = {}
    for km, name in enumerate(
        (
            "none",
            "basic",
            "standard",
            "enhanced_children",
            "barred_adults",
            "barred_both",
            "children_and_adults",
            "lapsed_both",
            "withdrawn_both",
        ),
        start=1,
    ):
        made[name] = add_volunteer(db, km=km, name=name)
    db.commit()

    def give(name: str, **fields: Any) -> dict[str, Any]:
        return record(client, admin, made[name].id, **fields)

    give("basic", level="basic", workforce=None)
    give("standard", level="standard", workforce=None)
    give("enhanced_children", level="enhanced", workforce="children")
    give("barred_adults", workforce="adults")
    give("barred_both", workforce="both")
    give("children_and_adults", workforce="children")
    give("children_and_adults", level="enhanced", workforce="adults")
    give(
        "lapsed_both",
        workforce="both",
        certificate_date=(years_before(today_uk(), 3) - timedelta(days=1)).isoformat(),
    )
    withdrawn = give("withdrawn_both", workforce="both")
    client.post(f"/api/v1/passport/checks/{withdrawn['id']}/withdraw", json={"reason": "test"}, headers=admin)
    return made


def names(people: dict[str, Volunteer], ids: set[int]) -> set[str]:
    return {name for name, v in people.items() if v.id in ids}


@pytest.mark.parametrize(
    ("level", "workforce", "expected"),
    [
        (
            None,
            None,
            {
                "none",
                "basic",
                "standard",
                "enhanced_children",
                "barred_adults",
                "barred_both",
                "children_and_adults",
                "lapsed_both",
                "withdrawn_both",
            },
        ),
        (
            "basic",
            None,
            {"basic", "standard", "enhanced_children", "barred_adults", "barred_both", "children_and_adults"},
        ),
        (
            "standard",
            None,
            {"standard", "enhanced_children", "barred_adults", "barred_both", "children_and_adults"},
        ),
        ("enhanced", "children", {"enhanced_children", "barred_both", "children_and_adults"}),
        ("enhanced", "adults", {"barred_adults", "barred_both", "children_and_adults"}),
        ("enhanced", "both", {"barred_both", "children_and_adults"}),
        ("enhanced_barred", "adults", {"barred_adults", "barred_both"}),
        # A barred-list check for children and an enhanced one for adults do not make both at this level.
        ("enhanced_barred", "both", {"barred_both"}),
    ],
)
def test_selection_calls_only_people_holding_the_needs_check(
    client: TestClient,
    coordinator: dict[str, str],
    people: dict[str, Volunteer],
    level: str | None,
    workforce: str | None,
    expected: set[str],
) -> None:
    incident_id = declare(client, coordinator, needs=[need(level, workforce)], overask=1)
    assert names(people, called_ids(client, coordinator, incident_id)) == expected
    progress = client.get(f"/api/v1/incidents/{incident_id}", headers=coordinator).json()["needs"][0]
    assert (progress["check_level"], progress["check_workforce"]) == (level, workforce)


def test_the_preview_counts_people_left_out_only_for_want_of_a_check(
    client: TestClient, coordinator: dict[str, str], people: dict[str, Volunteer], db: Session
) -> None:
    add_volunteer(db, km=2, verified=False, name="unverified")  # left out as unverified, not for the check
    db.commit()
    body = incident_body(
        radius_km=10, max_radius_km=10, needs=[need("enhanced", "both"), {"skill": "chainsaw", "count": 1}]
    )
    response = client.post(PREVIEW, json=body, headers=coordinator)
    assert response.status_code == 200, response.text
    first_aid, chainsaw = response.json()["needs"]
    assert first_aid["eligible_within_radius"] == 2
    assert first_aid["unchecked_within_radius"] == 7
    assert first_aid["unverified_within_radius"] == 0  # the unverified person has no check either
    assert (chainsaw["unchecked_within_radius"], chainsaw["unchecked_within_max_radius"]) == (0, 0)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"check_level": "enhanced"}, "names its workforce"),
        ({"check_level": "basic", "check_workforce": "children"}, "not for a workforce"),
        ({"check_workforce": "adults"}, "give check_level too"),
        ({"check_level": "secret"}, "check_level"),
    ],
)
def test_a_needs_check_must_be_one_the_law_defines(
    client: TestClient, coordinator: dict[str, str], bad: dict[str, Any], says: str
) -> None:
    body = incident_body(needs=[{"skill": "first_aid", "count": 1, **bad}])
    for path in ("/api/v1/incidents", PREVIEW):
        refused = is_problem(client.post(path, json=body, headers=coordinator), 422)
        assert says in refused["detail"], refused["detail"]


def test_a_coordinator_changes_a_needs_check_for_whoever_is_called_next(
    client: TestClient, coordinator: dict[str, str], people: dict[str, Volunteer], db: Session
) -> None:
    incident_id = declare(client, coordinator, needs=[need("enhanced_barred", "both", count=1)], overask=1)
    assert names(people, called_ids(client, coordinator, incident_id)) == {"barred_both"}
    changed = client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={
            "needs": [
                {"skill": "first_aid", "count": 2, "check_level": "enhanced", "check_workforce": "both"}
            ]
        },
        headers=coordinator,
    )
    assert changed.status_code == 200, changed.text
    assert names(people, called_ids(client, coordinator, incident_id)) == {
        "barred_both",
        "children_and_adults",
    }
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "need.check_changed")).all()
    assert event.detail["from"] == {"check_level": "enhanced_barred", "check_workforce": "both"}
    assert event.detail["to"] == {"check_level": "enhanced", "check_workforce": "both"}
    # A count change alone keeps the check; null takes it away.
    client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"needs": [{"skill": "first_aid", "count": 3}]},
        headers=coordinator,
    )
    assert db.scalars(select(Need.check_level).where(Need.incident_id == incident_id)).one() is not None
    client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"needs": [{"skill": "first_aid", "count": 3, "check_level": None}]},
        headers=coordinator,
    )
    db.expire_all()
    assert db.scalars(select(Need.check_level).where(Need.incident_id == incident_id)).one() is None


def test_the_passport_page_shows_each_checks_level_workforce_and_state_never_its_number(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    volunteer = add_volunteer(db, km=1, name="Grace Hopper")
    db.commit()
    record(client, admin, volunteer.id, workforce="both")
    record(
        client,
        admin,
        volunteer.id,
        scheme="pvg",
        workforce="adults",
        certificate_number="1234567890123456",
        certificate_date=days_ago(1000).isoformat(),
        pvg_renewal_on=days_ago(-30).isoformat(),
    )
    gone = record(
        client, admin, volunteer.id, level="basic", workforce=None, certificate_number="WITHDRAWN99"
    )
    client.post(f"/api/v1/passport/checks/{gone['id']}/withdraw", json={"reason": "test"}, headers=admin)
    text(client, volunteer, "PASSPORT")
    page = client.post(link_of(db, volunteer)).text
    assert "Grace Hopper" in page
    assert "DBS: Enhanced with barred lists" in page and "children&#39;s and adults&#39; workforce" in page
    assert "PVG scheme membership: Enhanced with barred lists" in page and "adults&#39; workforce" in page
    assert "Due for renewal soon; renew by" in page and "Current; renew by" in page
    assert "Basic" not in page  # withdrawn
    for number in (NUMBER, "1234567890123456", "WITHDRAWN99"):
        assert number not in page


def test_a_passport_without_checks_says_so(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "PASSPORT")
    assert "No disclosure or barring checks on record." in client.post(link_of(db, volunteer)).text
