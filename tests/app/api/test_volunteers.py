"""The reserve's HTTP API: creation, validation errors, roles, listing, update and erasure."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.volunteer.models import Volunteer
from tests.app.reserve import verify_all
from tests.conftest import is_problem

CARLISLE = [-2.9350, 54.8925]


def volunteer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Ada Lovelace",
        "phone": "07911 123456",
        "location": {"type": "Point", "coordinates": CARLISLE},
        "skills": [{"code": "first_aid", "level": 2, "expires_on": "2099-01-01"}],
    }
    body.update(overrides)
    return body


def test_create_returns_201_with_e164_phone(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/api/v1/volunteers", json=volunteer_body(), headers=coordinator)
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int)
    assert body["phone"] == "+447911123456"
    assert body["location"] == {"type": "Point", "coordinates": CARLISLE}
    assert body["skills"][0]["code"] == "first_aid"
    assert body["skills"][0]["valid"] is True


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "01228 817000"}, "not a mobile"),
        ({"phone": "not a number"}, "phone"),
        ({"location": {"type": "Point", "coordinates": [-2.9, 95.0]}}, "latitude"),
        ({"location": {"type": "Point", "coordinates": [200.0, 54.0]}}, "longitude"),
        ({"location": {"type": "Polygon", "coordinates": []}}, "location"),
        ({"skills": [{"code": "dragon_taming"}]}, "dragon_taming"),
        ({"skills": [{"code": "first_aid", "level": 9}]}, "level"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "\t\n"}, "name"),
    ],
)
def test_bad_input_is_a_clear_422(
    client: TestClient, coordinator: dict[str, str], overrides: dict[str, Any], needle: str
) -> None:
    response = client.post("/api/v1/volunteers", json=volunteer_body(**overrides), headers=coordinator)
    assert needle in is_problem(response, 422)["detail"]


def test_duplicate_phone_is_409(client: TestClient, coordinator: dict[str, str]) -> None:
    assert client.post("/api/v1/volunteers", json=volunteer_body(), headers=coordinator).status_code == 201
    again = client.post(
        "/api/v1/volunteers", json=volunteer_body(phone="+44 7911 123456", name="B"), headers=coordinator
    )
    assert again.status_code == 409
    assert "+447911123456" in again.json()["detail"]


def test_tokens_and_roles(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], viewer: dict[str, str]
) -> None:
    assert client.get("/api/v1/volunteers").status_code == 401
    assert client.get("/api/v1/volunteers", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/volunteers", headers=viewer).status_code == 403
    assert client.post("/api/v1/volunteers", json=volunteer_body(), headers=viewer).status_code == 403
    created = client.post("/api/v1/volunteers", json=volunteer_body(), headers=coordinator).json()
    assert client.delete(f"/api/v1/volunteers/{created['id']}", headers=coordinator).status_code == 403
    assert client.get("/api/v1/volunteers", headers=admin).status_code == 200


def test_patch_replaces_skills_and_validates(client: TestClient, coordinator: dict[str, str]) -> None:
    vid = client.post("/api/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    response = client.patch(
        f"/api/v1/volunteers/{vid}",
        json={"skills": [{"code": "chainsaw", "expires_on": "2001-01-01"}], "max_travel_km": 15},
        headers=coordinator,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["code"] for s in body["skills"]] == ["chainsaw"]
    assert body["skills"][0]["valid"] is False
    assert body["max_travel_km"] == 15
    bad = client.patch(f"/api/v1/volunteers/{vid}", json={"phone": "0800 123 4567"}, headers=coordinator)
    assert bad.status_code == 422


def test_missing_volunteer_is_404(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.get("/api/v1/volunteers/999999", headers=coordinator)
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_erasure_removes_personal_data_and_keeps_anonymised_audit(
    client: TestClient, admin: dict[str, str], db: Session
) -> None:
    vid = client.post("/api/v1/volunteers", json=volunteer_body(), headers=admin).json()["id"]
    assert client.delete(f"/api/v1/volunteers/{vid}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/volunteers/{vid}", headers=admin).status_code == 404
    # The phone comes back only with fresh consent (a recycled number's new holder gives theirs).
    assert client.post("/api/v1/volunteers", json=volunteer_body(), headers=admin).status_code == 409
    fresh = volunteer_body(consent_at=datetime.now(UTC).isoformat())
    assert client.post("/api/v1/volunteers", json=fresh, headers=admin).status_code == 201
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "volunteer", AuditEvent.entity_id == vid)
    ).all()
    assert [e.action for e in events] == ["volunteer.created", "volunteer.erased"]
    assert all("7911" not in str(e.detail) for e in events)


def test_list_filters_by_valid_skill(client: TestClient, coordinator: dict[str, str]) -> None:
    client.post("/api/v1/volunteers", json=volunteer_body(), headers=coordinator)
    client.post(
        "/api/v1/volunteers",
        json=volunteer_body(
            name="Expired", phone="07911 123457", skills=[{"code": "first_aid", "expires_on": "2020-01-01"}]
        ),
        headers=coordinator,
    )
    page = client.get("/api/v1/volunteers?skill=first_aid", headers=coordinator).json()
    assert [v["name"] for v in page["items"]] == ["Ada Lovelace"]
    assert page["total"] == 1
    unknown = client.get("/api/v1/volunteers?skill=nope", headers=coordinator)
    assert unknown.status_code == 422


def test_patch_refuses_a_whitespace_name(client: TestClient, coordinator: dict[str, str]) -> None:
    vid = client.post("/api/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    response = client.patch(f"/api/v1/volunteers/{vid}", json={"name": "  "}, headers=coordinator)
    assert response.status_code == 422, response.text
    assert "name" in response.json()["detail"]
    assert client.get(f"/api/v1/volunteers/{vid}", headers=coordinator).json()["name"] == "Ada Lovelace"


def test_patch_renews_an_existing_credential_as_a_claim_and_keeps_an_unchanged_one(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    vid = client.post("/api/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    assert {
        s["status"] for s in client.get(f"/api/v1/volunteers/{vid}", headers=coordinator).json()["skills"]
    } == {"pending"}
    verify_all(db, db.get_one(Volunteer, vid))
    db.commit()
    renewed = {"code": "first_aid", "level": 3, "expires_on": "2100-06-30"}
    response = client.patch(
        f"/api/v1/volunteers/{vid}", json={"skills": [renewed, {"code": "chainsaw"}]}, headers=coordinator
    )
    assert response.status_code == 200, response.text
    skills = {s["code"]: s for s in response.json()["skills"]}
    assert (skills["first_aid"]["level"], skills["first_aid"]["expires_on"]) == (3, "2100-06-30")
    assert (skills["first_aid"]["status"], skills["first_aid"]["verified_by"]) == ("pending", None)
    verify_all(db, db.get_one(Volunteer, vid))
    db.commit()
    again = client.patch(f"/api/v1/volunteers/{vid}", json={"skills": [renewed]}, headers=coordinator)
    assert again.status_code == 200, again.text
    [kept] = again.json()["skills"]
    assert (kept["code"], kept["status"], kept["validity"]) == ("first_aid", "verified", "in_date")
    refused = client.patch(
        f"/api/v1/volunteers/{vid}",
        json={"skills": [{**renewed, "verified_by": "St John Ambulance"}]},
        headers=coordinator,
    )
    assert refused.status_code == 422  # only an organisation's verifier verifies


def test_consent_is_recorded_only_when_given(client: TestClient, coordinator: dict[str, str]) -> None:
    silent = client.post("/api/v1/volunteers", json=volunteer_body(), headers=coordinator).json()
    assert silent["consent_at"] is None
    given = client.post(
        "/api/v1/volunteers",
        json=volunteer_body(phone="07911 123457", consent_at="2026-11-01T09:30:00Z"),
        headers=coordinator,
    ).json()
    assert given["consent_at"] == "2026-11-01T09:30:00Z"
