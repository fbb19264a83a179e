"""Verification by organisations: who may verify what, verifying and rejecting, and what counts at
selection, on the real API and database."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.auth.service import create_token
from app.errors import InvalidInput
from app.message.models import Message, MessageKind
from app.passport.models import CredentialReview
from app.volunteer.models import Credential, CredentialStatus, Volunteer
from app.volunteer.service import organisations_named, today_uk
from tests.app.reserve import CARLISLE, add_volunteer, incident_body, next_phone
from tests.conftest import bearer, is_problem

RED_CROSS = "British Red Cross"
ST_JOHN = "St John Ambulance"
EVIDENCE = {"certificate_number": "FA-2026-0042", "course": "First Aid at Work", "certified_on": "2026-03-14"}


def credential_of(db: Session, volunteer: Volunteer, skill: str = "first_aid") -> Credential:
    return db.scalars(
        select(Credential).where(Credential.volunteer_id == volunteer.id, Credential.skill_code == skill)
    ).one()


@pytest.fixture
def red_cross(db: Session) -> dict[str, str]:
    """Headers of the British Red Cross's verifier (St John exists too)."""
    organisations_named(db, names=[RED_CROSS, ST_JOHN])
    return bearer(db, Role.org_verifier, organisation=RED_CROSS)


def member(db: Session, organisation: str, **fields: Any) -> Volunteer:
    """A pending first-aider 1 km from Carlisle who belongs to `organisation`."""
    fields.setdefault("km", 1)
    return add_volunteer(db, organisations=[organisation], verified=False, **fields)


def test_a_verifier_token_needs_one_known_organisation(db: Session) -> None:
    organisations_named(db, names=[RED_CROSS])
    with pytest.raises(InvalidInput, match="bound to one organisation"):
        create_token(db, name="no organisation", role=Role.org_verifier)
    with pytest.raises(InvalidInput, match="does not exist"):
        create_token(db, name="made up", role=Role.org_verifier, organisation="Red Cross Typo")
    with pytest.raises(InvalidInput, match="for org_verifier"):
        create_token(db, name="coordinator", role=Role.coordinator, organisation=RED_CROSS)
    assert create_token(db, name="Red Cross verifier", role=Role.org_verifier, organisation=RED_CROSS)


def test_the_queue_holds_only_members_and_claimed_issuer_oldest_first(
    client: TestClient, db: Session, red_cross: dict[str, str]
) -> None:
    first = member(db, RED_CROSS, name="First Member")
    theirs = member(db, ST_JOHN, name="St John Member")
    claims_us = add_volunteer(db, km=2, name="Claims Red Cross", verified=False)
    credential_of(db, claims_us).issuer = organisations_named(db, names=[RED_CROSS])[0]
    second = member(db, RED_CROSS, name="Second Member", skills=("first_aid", "sandbagging"))
    done = member(db, RED_CROSS, name="Already Verified")
    credential_of(db, done).status = CredentialStatus.verified
    db.commit()

    page = client.get("/api/v1/verifications", headers=red_cross)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["organisation"] == RED_CROSS
    shown = [(i["volunteer_name"], i["skill"], i["grounds"]) for i in body["items"]]
    assert shown == [
        ("First Member", "first_aid", ["member"]),
        ("Claims Red Cross", "first_aid", ["issuer"]),
        ("Second Member", "first_aid", ["member"]),
        ("Second Member", "sandbagging", ["member"]),
    ]
    assert body["total"] == 4
    assert "phone" not in body["items"][0] and "location" not in body["items"][0]
    # Another organisation's member's credential does not exist for this verifier.
    other = credential_of(db, theirs).id
    assert is_problem(client.get(f"/api/v1/verifications/{other}", headers=red_cross), 404)
    assert is_problem(
        client.post(f"/api/v1/verifications/{other}/verify", json=EVIDENCE, headers=red_cross), 404
    )
    refused = client.post(f"/api/v1/verifications/{other}/reject", json={"reason": "no"}, headers=red_cross)
    assert is_problem(refused, 404)
    assert credential_of(db, theirs).status is CredentialStatus.pending
    assert (
        client.get(f"/api/v1/verifications/{credential_of(db, first).id}", headers=red_cross).status_code
        == 200
    )
    assert second.id and done.id


def test_a_verifier_may_use_nothing_else_and_nobody_else_may_verify(
    client: TestClient,
    db: Session,
    red_cross: dict[str, str],
    coordinator: dict[str, str],
    admin: dict[str, str],
) -> None:
    volunteer = member(db, RED_CROSS)
    db.commit()
    for path in (
        "/api/v1/volunteers",
        f"/api/v1/volunteers/{volunteer.id}",
        "/api/v1/incidents",
        "/api/v1/areas",
    ):
        assert is_problem(client.get(path, headers=red_cross), 403)
    assert is_problem(client.get("/api/v1/map/areas", headers=red_cross), 403)
    assert is_problem(client.post("/api/v1/incidents", json=incident_body(), headers=red_cross), 403)
    credential_id = credential_of(db, volunteer).id
    for headers in (coordinator, admin):
        assert is_problem(client.get("/api/v1/verifications", headers=headers), 403)
        refused = client.post(f"/api/v1/verifications/{credential_id}/verify", json=EVIDENCE, headers=headers)
        assert is_problem(refused, 403)
    assert credential_of(db, volunteer).status is CredentialStatus.pending


def test_verifying_records_the_organisation_who_when_and_the_evidence(
    client: TestClient, db: Session, red_cross: dict[str, str]
) -> None:
    volunteer = member(db, RED_CROSS)
    db.commit()
    credential_id = credential_of(db, volunteer).id
    response = client.post(f"/api/v1/verifications/{credential_id}/verify", json=EVIDENCE, headers=red_cross)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "verified"
    db.expire_all()
    credential = credential_of(db, volunteer)
    assert credential.status is CredentialStatus.verified
    assert credential.verified_at is not None and credential.verified_by is not None
    assert credential.verified_by.endswith(f"test-{Role.org_verifier.value}")
    [review] = db.scalars(select(CredentialReview).where(CredentialReview.credential_id == credential_id))
    assert review.decision is CredentialStatus.verified
    assert review.organisation_id == organisations_named(db, names=[RED_CROSS])[0].id
    assert review.actor == credential.verified_by
    assert review.evidence == EVIDENCE
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "credential.verified")).one()
    assert (event.entity_type, event.entity_id, event.actor) == ("credential", credential_id, review.actor)
    assert "FA-2026-0042" not in str(event.detail)
    again = client.post(f"/api/v1/verifications/{credential_id}/verify", json=EVIDENCE, headers=red_cross)
    assert is_problem(again, 409)
    assert client.get("/api/v1/verifications", headers=red_cross).json()["total"] == 0


@pytest.mark.parametrize(
    "evidence",
    [
        {**EVIDENCE, "certificate_number": "  "},
        {**EVIDENCE, "certified_on": (today_uk() + timedelta(days=2)).isoformat()},
        {"course": "First Aid at Work", "certified_on": "2026-03-14"},
    ],
)
def test_verifying_needs_real_evidence(
    client: TestClient, db: Session, red_cross: dict[str, str], evidence: dict[str, str]
) -> None:
    volunteer = member(db, RED_CROSS)
    db.commit()
    credential_id = credential_of(db, volunteer).id
    response = client.post(f"/api/v1/verifications/{credential_id}/verify", json=evidence, headers=red_cross)
    is_problem(response, 422)
    assert credential_of(db, volunteer).status is CredentialStatus.pending


def test_rejecting_records_the_reason_and_texts_the_volunteer(
    client: TestClient, db: Session, red_cross: dict[str, str]
) -> None:
    volunteer = member(db, RED_CROSS)
    db.commit()
    credential_id = credential_of(db, volunteer).id
    reason = "the certificate number is not one of ours"
    response = client.post(
        f"/api/v1/verifications/{credential_id}/reject", json={"reason": reason}, headers=red_cross
    )
    assert response.status_code == 200, response.text
    db.expire_all()
    assert credential_of(db, volunteer).status is CredentialStatus.rejected
    [review] = db.scalars(select(CredentialReview).where(CredentialReview.credential_id == credential_id))
    assert (review.decision, review.reason) == (CredentialStatus.rejected, reason)
    [sms] = db.scalars(
        select(Message).where(
            Message.volunteer_id == volunteer.id, Message.kind == MessageKind.credential_rejected
        )
    )
    assert sms.to_number == volunteer.phone
    assert RED_CROSS in sms.body and "First aid" in sms.body and reason in sms.body
    assert db.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == credential_id)).all() == [
        "credential.rejected"
    ]
    twice = client.post(
        f"/api/v1/verifications/{credential_id}/reject", json={"reason": reason}, headers=red_cross
    )
    assert is_problem(twice, 409)


def called(client: TestClient, coordinator: dict[str, str], skill: str) -> set[int]:
    body = incident_body(needs=[{"skill": skill, "count": 1}], overask=20)
    declared = client.post("/api/v1/incidents", json=body, headers=coordinator)
    assert declared.status_code == 201, declared.text
    callouts = client.get(f"/api/v1/incidents/{declared.json()['id']}/callouts", headers=coordinator).json()
    return {c["volunteer_id"] for c in callouts}


def test_selection_counts_only_verified_in_date_credentials_where_the_skill_needs_it(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    verified = add_volunteer(db, km=1, skills=("first_aid", "sandbagging"))
    pending = add_volunteer(db, km=1.5, skills=("first_aid", "sandbagging"), verified=False)
    rejected = add_volunteer(db, km=2, skills=("first_aid", "sandbagging"))
    for credential in db.scalars(select(Credential).where(Credential.volunteer_id == rejected.id)):
        credential.status = CredentialStatus.rejected
    expired = add_volunteer(db, km=2.5, skills=("first_aid",), expires_on=today_uk() - timedelta(days=1))
    db.commit()
    assert called(client, coordinator, "first_aid") == {verified.id}
    assert called(client, coordinator, "sandbagging") == {verified.id, pending.id}  # needs no verification
    assert expired.id


def test_the_preview_counts_those_left_out_only_because_unverified(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    add_volunteer(db, km=1, skills=("first_aid", "sandbagging"))
    add_volunteer(db, km=2, skills=("first_aid", "sandbagging"), verified=False)
    add_volunteer(db, km=3, skills=("first_aid",), verified=False)
    add_volunteer(db, km=20, skills=("first_aid",), verified=False)  # beyond the radius, within the maximum
    add_volunteer(db, km=4, skills=("first_aid",), verified=False, expires_on=today_uk() - timedelta(days=1))
    db.commit()
    body = incident_body(
        needs=[{"skill": "first_aid", "count": 2}, {"skill": "sandbagging", "count": 2}], max_radius_km=30
    )
    response = client.post("/api/v1/incidents/preview", json=body, headers=coordinator)
    assert response.status_code == 200, response.text
    needs = {n["skill"]: n for n in response.json()["needs"]}
    assert (needs["first_aid"]["eligible_within_radius"], needs["first_aid"]["unverified_within_radius"]) == (
        1,
        2,
    )
    assert needs["first_aid"]["unverified_within_max_radius"] == 3  # the expired one is left out anyway
    assert (
        needs["sandbagging"]["eligible_within_radius"],
        needs["sandbagging"]["unverified_within_radius"],
    ) == (
        2,
        0,
    )


@pytest.mark.parametrize(
    ("days", "validity"),
    [
        (None, "in_date"),
        (61, "in_date"),
        (60, "expiring"),
        (59, "expiring"),
        (0, "expiring"),
        (-1, "expired"),
    ],
)
def test_validity_is_worked_out_in_sql(
    client: TestClient, db: Session, coordinator: dict[str, str], days: int | None, validity: str
) -> None:
    expires_on = None if days is None else today_uk() + timedelta(days=days)
    volunteer = add_volunteer(db, km=1, expires_on=expires_on)
    db.commit()
    assert db.scalar(select(Credential.validity).where(Credential.volunteer_id == volunteer.id)) == validity
    [shown] = client.get(f"/api/v1/volunteers/{volunteer.id}", headers=coordinator).json()["skills"]
    assert (shown["validity"], shown["status"]) == (validity, "verified")


def test_what_a_coordinator_enters_is_pending(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    body = {
        "name": "Ada Lovelace",
        "phone": next_phone(),
        "location": {"type": "Point", "coordinates": list(CARLISLE)},
        "skills": [{"code": "first_aid", "expires_on": "2099-01-01", "issued_by": ST_JOHN}],
    }
    created = client.post("/api/v1/volunteers", json=body, headers=coordinator)
    assert created.status_code == 201, created.text
    [skill] = created.json()["skills"]
    assert (skill["status"], skill["verified_by"], skill["issued_by"]) == ("pending", None, ST_JOHN)
    st_john = bearer(db, Role.org_verifier, organisation=ST_JOHN)
    [item] = client.get("/api/v1/verifications", headers=st_john).json()["items"]
    assert (item["volunteer_name"], item["grounds"]) == ("Ada Lovelace", ["issuer"])


def test_erasing_a_volunteer_erases_the_evidence_and_reasons_kept_about_them(
    client: TestClient, db: Session, red_cross: dict[str, str], admin: dict[str, str]
) -> None:
    volunteer = member(db, RED_CROSS, skills=("first_aid", "swift_water"))
    db.commit()
    first_aid, swift_water = credential_of(db, volunteer).id, credential_of(db, volunteer, "swift_water").id
    assert (
        client.post(f"/api/v1/verifications/{first_aid}/verify", json=EVIDENCE, headers=red_cross).status_code
        == 200
    )
    rejected = client.post(
        f"/api/v1/verifications/{swift_water}/reject", json={"reason": "expired"}, headers=red_cross
    )
    assert rejected.status_code == 200
    assert client.delete(f"/api/v1/volunteers/{volunteer.id}", headers=admin).status_code in (200, 204)
    db.expire_all()
    assert db.scalars(select(CredentialReview)).all() == []
    assert is_problem(client.get(f"/api/v1/verifications/{first_aid}", headers=red_cross), 404)


def test_an_open_incidents_needs_count_those_left_out_as_unverified(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    add_volunteer(db, km=1)
    add_volunteer(db, km=2, verified=False)
    add_volunteer(db, km=3, verified=False)
    db.commit()
    body = incident_body(needs=[{"skill": "first_aid", "count": 3}, {"skill": "sandbagging", "count": 1}])
    declared = client.post("/api/v1/incidents", json=body, headers=coordinator)
    assert declared.status_code == 201, declared.text
    incident = client.get(f"/api/v1/incidents/{declared.json()['id']}", headers=coordinator).json()
    needs = {n["skill"]: n for n in incident["needs"]}
    assert (needs["first_aid"]["called"], needs["first_aid"]["unverified"]) == (1, 2)
    assert needs["sandbagging"]["unverified"] == 0
    listed = client.get("/api/v1/incidents", headers=coordinator).json()["items"]
    assert listed[0]["needs"][0]["unverified"] is None  # counted for one incident's own view only
