"""The subject-access export gathers what every package holds on the person: the organisations'
decisions with the evidence they saw, hours, activities and milestones, and nothing on anyone else."""

from fastapi.testclient import TestClient
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.check.models import BackgroundCheck
from app.volunteer.service import organisations_named
from tests.app.activity.test_hours import activity
from tests.app.check.helpers import NUMBER, record
from tests.app.passport.test_verification import EVIDENCE, RED_CROSS, credential_of, member
from tests.app.reserve import add_volunteer
from tests.conftest import bearer


def test_the_export_holds_reviews_with_evidence_activities_and_milestones(
    client: TestClient,
    db: Session,
    admin: dict[str, str],
    coordinator: dict[str, str],
) -> None:
    organisations_named(db, names=[RED_CROSS])
    red_cross = bearer(db, Role.org_verifier, organisation=RED_CROSS)
    ada = member(db, RED_CROSS, name="Ada Export")
    bob = add_volunteer(db, km=2, name="Bob Elsewhere")
    db.commit()
    credential = credential_of(db, ada).id
    verified = client.post(f"/api/v1/verifications/{credential}/verify", json=EVIDENCE, headers=red_cross)
    assert verified.status_code == 200, verified.text
    recorded = activity(client, coordinator, volunteers=[ada.id, bob.id], hours=10)
    assert recorded.status_code == 201, recorded.text
    record(client, red_cross, ada.id)

    response = client.get(f"/api/v1/volunteers/{ada.id}/export", headers=admin)
    assert response.status_code == 200, response.text
    export = response.json()
    [review] = export["reviews"]
    assert (review["credential_id"], review["decision"], review["organisation"]) == (
        credential,
        "verified",
        RED_CROSS,
    )
    assert review["evidence"] == EVIDENCE and review["reason"] is None
    assert [(a["title"], a["hours"]) for a in export["activities"]] == [("River Caldew clean-up", 10)]
    assert export["hours"]["activities"] == 10
    assert [m["hours"] for m in export["milestones"]] == [10]
    assert export["deployments"] == [] and export["inbox"] == []
    [check] = export["checks"]
    assert (check["level"], check["workforce"], check["certificate_number"]) == (
        "enhanced_barred",
        "children",
        NUMBER,
    )
    assert bob.phone not in response.text and "Bob Elsewhere" not in response.text


def test_erasure_deletes_the_persons_disclosure_checks(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    organisations_named(db, names=[RED_CROSS])
    ada = member(db, RED_CROSS, name="Ada Erased")
    db.commit()
    record(client, admin, ada.id)
    assert client.delete(f"/api/v1/volunteers/{ada.id}", headers=admin).status_code in (200, 204)
    assert (
        db.scalar(
            select(func.count()).select_from(BackgroundCheck).where(BackgroundCheck.volunteer_id == ada.id)
        )
        == 0
    )
    numbers = db.scalars(select(AuditEvent).where(cast(AuditEvent.detail, Text).contains(NUMBER))).all()
    assert numbers == []
