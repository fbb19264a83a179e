"""Eligibility rules one by one, ranking and fairness, and the spatial index, on real PostGIS."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.callout.selection import explain
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.schemas import UnavailableCreate, WindowCreate
from tests.app.reserve import add_volunteer, incident_body


def called_ids(client: TestClient, headers: dict[str, str], incident_id: int) -> set[int]:
    response = client.get(f"/api/v1/incidents/{incident_id}/callouts", headers=headers)
    assert response.status_code == 200, response.text
    return {c["volunteer_id"] for c in response.json()}


def declare(client: TestClient, headers: dict[str, str], **overrides: object) -> int:
    response = client.post("/api/v1/incidents", json=incident_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_each_eligibility_rule(client: TestClient, coordinator: dict[str, str], db: Session) -> None:
    now_uk = datetime.now(ZoneInfo("Europe/London"))
    eligible = add_volunteer(db, km=2)
    in_window = add_volunteer(
        db,
        km=3,
        availability=[WindowCreate(weekday=now_uk.weekday(), starts=time(0, 0), ends=time(23, 59, 59))],
    )
    expired = add_volunteer(db, km=1, expires_on=date(2020, 1, 1))
    wrong_skill = add_volunteer(db, km=1, skills=("chainsaw",))
    too_far = add_volunteer(db, km=10.5)
    beyond_own_limit = add_volunteer(db, km=6, max_travel_km=5)
    paused = add_volunteer(db, km=1, status="paused")
    opted_out = add_volunteer(db, km=1)
    db.execute(update(Volunteer).where(Volunteer.id == opted_out.id).values(status=VolunteerStatus.opted_out))
    away = add_volunteer(
        db,
        km=1,
        unavailable=[
            UnavailableCreate(
                starts_at=datetime.now(UTC) - timedelta(hours=1),
                ends_at=datetime.now(UTC) + timedelta(days=2),
            )
        ],
    )
    other_day = (now_uk.weekday() + 3) % 7
    out_of_window = add_volunteer(
        db, km=1, availability=[WindowCreate(weekday=other_day, starts=time(9), ends=time(17))]
    )
    db.commit()

    incident_id = declare(client, coordinator)
    called = called_ids(client, coordinator, incident_id)
    assert called == {eligible.id, in_window.id}
    excluded = {expired, wrong_skill, too_far, beyond_own_limit, paused, opted_out, away, out_of_window}
    assert not called & {v.id for v in excluded}


def test_busy_elsewhere_is_not_called(client: TestClient, coordinator: dict[str, str], db: Session) -> None:
    busy = add_volunteer(db, km=1)
    free = add_volunteer(db, km=2)
    db.commit()
    first = declare(client, coordinator, needs=[{"skill": "first_aid", "count": 1}], overask=1)
    assert called_ids(client, coordinator, first) == {busy.id}
    from app.callout.models import Callout, CalloutStatus

    db.execute(update(Callout).where(Callout.incident_id == first).values(status=CalloutStatus.accepted))
    db.commit()
    second = declare(client, coordinator, title="Second flood")
    assert called_ids(client, coordinator, second) == {free.id}


def test_credential_must_be_valid_on_the_start_date(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    expiring = add_volunteer(db, km=1, expires_on=date.today() + timedelta(days=3))
    db.commit()
    later = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    assert called_ids(client, coordinator, declare(client, coordinator, starts_at=later)) == set()
    assert called_ids(client, coordinator, declare(client, coordinator, title="Now")) == {expiring.id}


def test_one_need_per_volunteer_per_incident(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    both = [add_volunteer(db, km=k, skills=("first_aid", "chainsaw")) for k in (1, 2, 3)]
    db.commit()
    incident_id = declare(
        client,
        coordinator,
        needs=[{"skill": "first_aid", "count": 1}, {"skill": "chainsaw", "count": 1}],
        overask=2,
    )
    callouts = client.get(f"/api/v1/incidents/{incident_id}/callouts", headers=coordinator).json()
    volunteers = [c["volunteer_id"] for c in callouts]
    assert len(volunteers) == len(set(volunteers)) == 3
    assert set(volunteers) == {v.id for v in both}


def test_ranked_nearest_first_then_least_recently_called(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    far = add_volunteer(db, km=4.5)
    near_recent = add_volunteer(db, km=1.2, bearing=90)
    near_rested = add_volunteer(db, km=1.6, bearing=180)
    db.execute(
        update(Volunteer).where(Volunteer.id == near_recent.id).values(last_called_at=datetime.now(UTC))
    )
    db.commit()
    incident_id = declare(client, coordinator, needs=[{"skill": "first_aid", "count": 1}], overask=2)
    assert called_ids(client, coordinator, incident_id) == {near_rested.id, near_recent.id}
    callouts = client.get(f"/api/v1/incidents/{incident_id}/callouts", headers=coordinator).json()
    assert callouts[0]["volunteer_id"] == near_rested.id  # same 1 km band, never called before
    assert far.id not in {c["volunteer_id"] for c in callouts}


def test_selection_uses_the_spatial_index(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    for k in range(40):
        add_volunteer(db, km=0.5 + k * 0.7, bearing=k * 37)
    db.execute(update(Volunteer).values(updated_at=datetime.now(UTC)))
    db.commit()
    db.connection().exec_driver_sql("ANALYZE volunteers")
    incident_id = declare(client, coordinator)
    db.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = explain(
        db, incident_id=incident_id, skill="first_aid", radius_km=10, starts_at=datetime.now(UTC), limit=10
    )
    assert "ix_credentials_skill_location" in plan, plan


def test_a_volunteer_who_moves_is_found_at_the_new_home(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    mover = add_volunteer(db, km=50)
    db.commit()
    assert called_ids(client, coordinator, declare(client, coordinator)) == set()
    moved = client.patch(
        f"/api/v1/volunteers/{mover.id}",
        json={"location": {"type": "Point", "coordinates": [-2.94, 54.90]}},
        headers=coordinator,
    )
    assert moved.status_code == 200, moved.text
    assert called_ids(client, coordinator, declare(client, coordinator, title="After the move")) == {mover.id}


def test_a_passport_holds_one_entry_per_skill(client: TestClient, coordinator: dict[str, str]) -> None:
    body = {
        "name": "Twice",
        "phone": "07911 999001",
        "location": {"type": "Point", "coordinates": [-2.9, 54.9]},
        "skills": [{"code": "first_aid"}, {"code": "first_aid", "level": 3}],
    }
    response = client.post("/api/v1/volunteers", json=body, headers=coordinator)
    assert response.status_code == 422
    assert "listed twice: first_aid" in response.json()["detail"]


def test_emergencies_only_leaves_a_volunteer_out_of_asks_only(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    from app.volunteer.service import organisations_named

    organisations_named(db, names=["Cumbria Woodlands"])
    anything = add_volunteer(db, km=1)
    emergencies_only = add_volunteer(db, km=2)
    emergencies_only.emergencies_only = True
    db.commit()
    ask = client.post(
        "/api/v1/asks",
        json=incident_body(organisation="Cumbria Woodlands", starts_at=datetime.now(UTC).isoformat()),
        headers=coordinator,
    )
    assert ask.status_code == 201, ask.text
    assert called_ids(client, coordinator, ask.json()["id"]) == {anything.id}
    emergency = declare(client, coordinator)
    assert called_ids(client, coordinator, emergency) == {anything.id, emergencies_only.id}
