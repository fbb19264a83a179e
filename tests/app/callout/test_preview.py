"""The preview before declaring: eligible people per need from the real selection, and nothing written."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.callout.models import Callout, CalloutStatus
from app.incident.models import Incident
from app.volunteer.models import VolunteerStatus
from tests.app.reserve import CARLISLE, add_volunteer, incident_body

PREVIEW = "/api/v1/incidents/preview"


def _rows(db: Session) -> dict[str, int]:
    """Rows in every table of the schema (the preview must add none, anywhere)."""
    tables = db.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
    ).all()
    # The names come from the catalogue, not from input.
    return {t: db.scalar(text(f'SELECT count(*) FROM "{t}"')) or 0 for t in tables}  # noqa: S608


def test_preview_counts_within_the_radius_and_the_maximum_and_writes_nothing(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    for km in (1, 2, 3):
        add_volunteer(db, km=km)
    for km in (15, 25):
        add_volunteer(db, km=km, bearing=90)
    add_volunteer(db, km=1, skills=("chainsaw",))
    add_volunteer(db, km=60)  # beyond the maximum
    add_volunteer(db, km=1, status=VolunteerStatus.paused)  # not callable
    add_volunteer(db, km=20, max_travel_km=5)  # will not travel that far
    db.commit()
    before = _rows(db)
    body = incident_body(
        radius_km=10,
        max_radius_km=30,
        needs=[{"skill": "first_aid", "count": 4}, {"skill": "chainsaw", "count": 1}],
    )
    response = client.post(PREVIEW, json=body, headers=coordinator)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "needs": [
            {
                "skill": "first_aid",
                "count": 4,
                "eligible_within_radius": 3,
                "eligible_within_max_radius": 5,
                "unverified_within_radius": 0,
                "unverified_within_max_radius": 0,
                "unchecked_within_radius": 0,
                "unchecked_within_max_radius": 0,
            },
            {
                "skill": "chainsaw",
                "count": 1,
                "eligible_within_radius": 1,
                "eligible_within_max_radius": 1,
                "unverified_within_radius": 0,
                "unverified_within_max_radius": 0,
                "unchecked_within_radius": 0,
                "unchecked_within_max_radius": 0,
            },
        ],
        "radius_km": 10.0,
        "max_radius_km": 30.0,
    }
    assert _rows(db) == before
    assert db.scalar(select(func.count()).select_from(Incident)) == 0


def test_preview_leaves_out_people_committed_to_another_open_incident(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    people = [add_volunteer(db, km=1 + i) for i in range(3)]
    db.commit()
    declared = client.post("/api/v1/incidents", json=incident_body(overask=1), headers=coordinator)
    assert declared.status_code == 201, declared.text
    callout = db.scalars(select(Callout)).one()
    callout.status = CalloutStatus.accepted
    db.commit()
    assert callout.volunteer_id in {p.id for p in people}
    response = client.post(PREVIEW, json=incident_body(), headers=coordinator)
    assert response.json()["needs"][0]["eligible_within_radius"] == 2


def test_preview_refuses_what_declaring_refuses(client: TestClient, coordinator: dict[str, str]) -> None:
    unknown = client.post(
        PREVIEW, json=incident_body(needs=[{"skill": "unicorn_rescue", "count": 1}]), headers=coordinator
    )
    assert unknown.status_code == 422 and "unicorn_rescue" in unknown.text
    too_far = client.post(PREVIEW, json=incident_body(radius_km=50, max_radius_km=20), headers=coordinator)
    assert too_far.status_code == 422 and "max_radius_km" in too_far.text
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [
                [CARLISLE[0] - 0.1, CARLISLE[1] - 0.1],
                [CARLISLE[0] + 0.1, CARLISLE[1] - 0.1],
                [CARLISLE[0] + 0.1, CARLISLE[1] + 0.1],
                [CARLISLE[0] - 0.1, CARLISLE[1] - 0.1],
            ]
        ],
    }
    drawn = client.post(PREVIEW, json=incident_body(area=polygon, radius_km=0), headers=coordinator)
    assert drawn.status_code == 200, drawn.text


def test_only_coordinators_and_admins_preview(
    client: TestClient, viewer: dict[str, str], admin: dict[str, str]
) -> None:
    assert client.post(PREVIEW, json=incident_body()).status_code == 401
    assert client.post(PREVIEW, json=incident_body(), headers=viewer).status_code == 403
    assert client.post(PREVIEW, json=incident_body(), headers=admin).status_code == 200
