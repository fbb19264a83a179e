"""Hours on the passport: deployments from ARRIVED and DONE or a coordinator's entry, activities by API
and CSV (all rows or none), milestones thanked once, totals and what a forum viewer may see of them."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.activity.models import Activity, Milestone
from app.area.service import area_around
from app.auth.models import Role
from app.callout.models import Callout
from app.message.models import Message, MessageKind
from app.volunteer.models import Volunteer
from app.volunteer.service import organisations_named
from cli.main import cli
from tests.app.callout.test_service import declare, mark_sent, outbox
from tests.app.reserve import add_volunteer
from tests.app.twilio import sms
from tests.conftest import bearer, is_problem

CHESHIRE = (-2.55, 53.2)  # the viewer fixture's area: a 25 km circle, code E48000004
WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def text(client: TestClient, volunteer: Volunteer, body: str) -> None:
    assert sms(client, volunteer.phone or "", body).status_code == 200


def deployed(client: TestClient, coordinator: dict[str, str], db: Session) -> tuple[Volunteer, Callout]:
    """A volunteer confirmed for a flood at Carlisle, and their call-up."""
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    text(client, volunteer, "Y")
    callout = db.scalar(select(Callout).where(Callout.incident_id == incident["id"]))
    assert callout is not None
    return volunteer, callout


def passport(client: TestClient, headers: dict[str, str], volunteer: Volunteer) -> dict[str, Any]:
    response = client.get(f"/api/v1/volunteers/{volunteer.id}/passport", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def milestones_texted(db: Session, volunteer: Volunteer) -> list[Message]:
    return [m for m in outbox(db, volunteer) if m.kind is MessageKind.milestone]


def attendance(client: TestClient, headers: dict[str, str], callout: Callout, hours: float) -> Any:
    return client.post(
        f"/api/v1/incidents/{callout.incident_id}/callouts/{callout.id}/attendance",
        json={"arrived_at": WHEN.isoformat(), "done_at": (WHEN + timedelta(hours=hours)).isoformat()},
        headers=headers,
    )


def activity(client: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {
        "title": "River Caldew clean-up",
        "organisation": "Eden Rivers Trust",
        "held_on": "2026-11-01",
        "place": "Carlisle",
        "hours": 3,
    } | fields
    return client.post("/api/v1/activities", json=body, headers=headers)


def test_hours_come_from_arrived_and_done(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer, callout = deployed(client, coordinator, db)
    text(client, volunteer, "arrived")
    db.execute(
        update(Callout)
        .where(Callout.id == callout.id)
        .values(arrived_at=datetime.now(UTC) - timedelta(hours=3, minutes=30))
    )
    db.commit()
    assert passport(client, coordinator, volunteer)["deployments"] == []  # not done yet: no hours
    text(client, volunteer, "done")
    card = passport(client, coordinator, volunteer)
    [record] = card["deployments"]
    assert (record["incident_id"], record["role"]) == (callout.incident_id, "first_aid")
    assert 3.49 <= record["hours"] <= 3.52
    assert card["hours"]["deployments"] == record["hours"] and card["hours"]["total"] == record["hours"]
    assert card["milestones"] == [] and milestones_texted(db, volunteer) == []
    assert [c["code"] for c in card["credentials"]] == ["first_aid"]


def test_a_coordinator_enters_and_corrects_the_times(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer, callout = deployed(client, coordinator, db)
    assert attendance(client, coordinator, callout, 12).status_code == 200
    card = passport(client, coordinator, volunteer)
    assert card["hours"]["deployments"] == 12.0
    assert [m["hours"] for m in card["milestones"]] == [10]
    [thanks] = milestones_texted(db, volunteer)
    assert "10 hours" in thanks.body
    # Corrected down, then up again: the hours follow the record, the thank-you is not repeated.
    assert attendance(client, coordinator, callout, 8.5).status_code == 200
    card = passport(client, coordinator, volunteer)
    assert card["hours"]["total"] == 8.5 and [m["hours"] for m in card["milestones"]] == [10]
    assert attendance(client, coordinator, callout, 11).status_code == 200
    assert len(milestones_texted(db, volunteer)) == 1
    is_problem(
        client.post(
            f"/api/v1/incidents/{callout.incident_id}/callouts/{callout.id}/attendance",
            json={"arrived_at": WHEN.isoformat(), "done_at": (WHEN - timedelta(hours=1)).isoformat()},
            headers=coordinator,
        ),
        422,
    )


def test_a_coordinator_enters_hours_as_a_figure(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer, callout = deployed(client, coordinator, db)
    url = f"/api/v1/incidents/{callout.incident_id}/callouts/{callout.id}/attendance"
    response = client.post(url, json={"hours": 6.25}, headers=coordinator)
    assert response.status_code == 200, response.text
    assert response.json()["hours"] == 6.25  # the incident's own record says the same
    [record] = passport(client, coordinator, volunteer)["deployments"]
    assert (record["hours"], record["arrived_at"], record["done_at"]) == (6.25, None, None)
    # The figure stands for done - arrived while it is there; cleared, the times count again.
    assert attendance(client, coordinator, callout, 2).status_code == 200
    assert passport(client, coordinator, volunteer)["hours"]["deployments"] == 6.25
    assert client.post(url, json={"hours": None}, headers=coordinator).status_code == 200
    assert passport(client, coordinator, volunteer)["hours"]["deployments"] == 2.0
    is_problem(client.post(url, json={"hours": 0}, headers=coordinator), 422)
    is_problem(client.post(url, json={"hours": 169}, headers=coordinator), 422)


def test_crossing_10_and_25_in_one_step_is_one_text_and_both_milestones(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer, callout = deployed(client, coordinator, db)
    mark_sent(db)
    assert attendance(client, coordinator, callout, 26).status_code == 200
    [thanks] = milestones_texted(db, volunteer)
    assert "25 hours" in thanks.body and thanks.volunteer_id == volunteer.id
    rows = db.scalars(
        select(Milestone).where(Milestone.volunteer_id == volunteer.id).order_by(Milestone.hours)
    )
    assert [(m.hours, m.message_id) for m in rows] == [(10, thanks.id), (25, thanks.id)]
    # More hours that reach no new milestone: nothing more is sent; 50 is thanked once in its turn.
    assert activity(client, coordinator, volunteers=[volunteer.id], hours=4).status_code == 201
    assert len(milestones_texted(db, volunteer)) == 1
    assert activity(client, coordinator, volunteers=[volunteer.id], hours=24).status_code == 201
    assert [m.body.count("50 hours") for m in milestones_texted(db, volunteer)] == [0, 1]
    card = passport(client, coordinator, volunteer)
    assert card["hours"] == {"deployments": 26.0, "activities": 28.0, "total": 54.0}
    assert [m["hours"] for m in card["milestones"]] == [10, 25, 50]


def test_an_activity_by_api(
    client: TestClient, coordinator: dict[str, str], viewer: dict[str, str], db: Session
) -> None:
    ada, bob = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    response = activity(client, coordinator, volunteers=[ada.id, bob.phone, ada.phone], hours=2.5)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["volunteer_ids"] == sorted([ada.id, bob.id]) and body["hours"] == 2.5
    assert body["place"] == "Carlisle" and body["location"]["type"] == "Point"
    point = activity(
        client,
        coordinator,
        place="Talkin Tarn",
        location={"type": "Point", "coordinates": [-2.70, 54.92]},
        volunteers=[bob.id],
        held_on="2026-10-01",
    )
    assert point.status_code == 201 and point.json()["place"] == "Talkin Tarn"
    page = client.get("/api/v1/activities", params={"organisation": "Eden Rivers Trust"}, headers=coordinator)
    assert [a["id"] for a in page.json()["items"]] == [body["id"], point.json()["id"]]
    assert page.json()["total"] == 2
    assert [a["title"] for a in passport(client, coordinator, bob)["activities"]] == [
        "River Caldew clean-up"
    ] * 2
    assert passport(client, coordinator, bob)["hours"]["activities"] == 5.5
    is_problem(client.get("/api/v1/activities", headers=viewer), 403)
    is_problem(activity(client, viewer, volunteers=[ada.id]), 403)


def test_a_wrong_activity_is_refused_and_nothing_is_written(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    ada = add_volunteer(db, km=1)
    db.commit()
    cases = [
        ({"volunteers": [ada.id, 999999]}, "no volunteer 999999"),
        ({"volunteers": ["+447700900999"]}, "no volunteer has the phone +447700900999"),
        ({"volunteers": ["07911 123456"]}, "volunteers"),
        ({"volunteers": [ada.id], "place": "Atlantis"}, "no UK place"),
        ({"volunteers": [ada.id], "place": None}, "give a location"),
        ({"volunteers": [ada.id], "location": {"type": "Point", "coordinates": [2.35, 48.85]}}, "outside"),
        ({"volunteers": [ada.id], "held_on": (date.today() + timedelta(days=3)).isoformat()}, "future"),
        ({"volunteers": [ada.id], "hours": 25}, "hours"),
        ({"volunteers": [ada.id], "hours": 1e-9}, "hours"),  # hundredths are kept: this would be 0
        ({"volunteers": []}, "volunteers"),
    ]
    for fields, needle in cases:
        problem = is_problem(activity(client, coordinator, **fields), 422)
        assert needle in str(problem), (fields, problem)
    assert db.scalar(select(func.count()).select_from(Activity)) == 0


def csv_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "activities.csv"
    path.write_text(
        "held_on,title,organisation,place,lon,lat,hours,volunteers\n" + "".join(r + "\n" for r in rows)
    )
    return path


def test_activities_by_csv_all_rows_or_none(
    client: TestClient, coordinator: dict[str, str], db: Session, tmp_path: Path
) -> None:
    ada, bob = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    bad = csv_file(
        tmp_path,
        f"2026-11-01,Tree planting,Woodland Trust,Carlisle,,,13,{ada.id};{bob.phone}",
        f"2026-11-02,River clean,Eden Rivers Trust,Atlantis,,,2,{ada.id}",
        f"2026-11-03,Sandbags,Carlisle Council,,-2.93,,2,{ada.id}",
        "2026-11-04,Sandbags,Carlisle Council,Carlisle,,,2,+447700900999;12x;²",
    )
    problem = is_problem(
        client.post("/api/v1/activities/import", files={"file": bad.open("rb")}, headers=coordinator), 422
    )
    found = {(e["row"], e["column"]) for e in problem["errors"]}
    assert found == {(3, "place"), (4, "lat"), (5, "volunteers")}, problem["errors"]
    assert "nothing was imported" in problem["detail"]
    assert db.scalar(select(func.count()).select_from(Activity)) == 0
    good = csv_file(
        tmp_path,
        f"2026-11-01,Tree planting,Woodland Trust,Carlisle,,,13,{ada.id};{bob.phone}",
        f"2026-11-02,Flood-defence clear-up,Woodland Trust,,-2.93,54.89,13,{ada.phone}",
    )
    response = client.post("/api/v1/activities/import", files={"file": good.open("rb")}, headers=coordinator)
    assert response.status_code == 200, response.text
    assert response.json() == {"activities": 2, "attendances": 3}
    # One import is one step: Ada crossed 10 and 25 and is thanked once, for 25; Bob, at 13, for 10.
    assert [m.body.count("25 hours") for m in milestones_texted(db, ada)] == [1]
    assert [m.body.count("10 hours") for m in milestones_texted(db, bob)] == [1]


def test_nvr_activities_import(client: TestClient, db: Session, tmp_path: Path) -> None:
    ada = add_volunteer(db, km=1)
    db.commit()
    runner = CliRunner()
    bad = csv_file(tmp_path, "2026-11-01,Tree planting,Woodland Trust,Carlisle,,,3,999999")
    result = runner.invoke(cli, ["activities", "import", str(bad)])
    assert (
        result.exit_code == 1
        and "no volunteer 999999" in result.output
        and "nothing was imported" in result.output
    )
    good = csv_file(tmp_path, f"2026-11-01,Tree planting,Woodland Trust,Carlisle,,,3,{ada.phone}")
    result = runner.invoke(cli, ["activities", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 activities, 1 attendances" in result.output
    assert db.scalar(select(func.count()).select_from(Activity)) == 1


def test_an_organisation_records_its_own_activities_with_its_own_members(
    client: TestClient, db: Session, coordinator: dict[str, str], tmp_path: Path
) -> None:
    organisations_named(db, names=["Eden Rivers Trust", "Woodland Trust"])
    eden = bearer(db, Role.org_verifier, organisation="Eden Rivers Trust")
    ada = add_volunteer(db, km=1, organisations=["Eden Rivers Trust"])
    bob = add_volunteer(db, km=2, organisations=["Woodland Trust"])
    db.commit()
    made = activity(client, eden, volunteers=[ada.id, ada.phone])
    assert made.status_code == 201, made.text
    assert made.json()["volunteer_ids"] == [ada.id] and made.json()["organisation"] == "Eden Rivers Trust"
    # Someone else's member is nobody to this organisation: the same words as a made-up id.
    for ref, needle in ((bob.id, f"no volunteer {bob.id}"), (bob.phone, "no volunteer has the phone")):
        problem = is_problem(activity(client, eden, volunteers=[ada.id, ref]), 422)
        assert needle in problem["detail"], problem
    other = is_problem(activity(client, eden, organisation="Woodland Trust", volunteers=[ada.id]), 403)
    assert "Eden Rivers Trust only" in other["detail"]
    rows = csv_file(
        tmp_path,
        f"2026-11-01,Tree planting,Woodland Trust,Carlisle,,,3,{ada.id}",
        f"2026-11-02,River clean,Eden Rivers Trust,Carlisle,,,2,{ada.id};{bob.id}",
    )
    problem = is_problem(
        client.post("/api/v1/activities/import", files={"file": rows.open("rb")}, headers=eden), 422
    )
    assert {(e["row"], e["column"]) for e in problem["errors"]} == {(2, "organisation"), (3, "volunteers")}
    assert db.scalar(select(func.count()).select_from(Activity)) == 1
    # A coordinator records for anyone; the organisation sees its own activities only.
    woodland = activity(client, coordinator, organisation="Woodland Trust", volunteers=[bob.id])
    assert woodland.status_code == 201
    mine = client.get("/api/v1/activities", headers=eden).json()
    assert [a["id"] for a in mine["items"]] == [made.json()["id"]] and mine["total"] == 1
    assert client.get("/api/v1/activities", headers=coordinator).json()["total"] == 2
    # Recording is all an organisation's token adds: people and incidents stay closed to it.
    assert is_problem(client.get(f"/api/v1/volunteers/{ada.id}/passport", headers=eden), 403)
    assert is_problem(client.get("/api/v1/hours/totals", headers=eden), 403)


def test_totals_in_full_and_for_a_forum_viewer(
    client: TestClient, coordinator: dict[str, str], viewer: dict[str, str], db: Session
) -> None:
    area_around(db, code="E48000006", name="Cumbria", lon=-2.935, lat=54.8925, radius_km=30, actor="test")
    in_cheshire = [
        add_volunteer(db, km=1, centre=CHESHIRE, organisations=["Cheshire Wildlife"]) for _ in range(6)
    ]
    db.commit()
    volunteer, callout = deployed(client, coordinator, db)  # at Carlisle, first aid
    assert attendance(client, coordinator, callout, 5).status_code == 200
    cheshire = {"location": {"type": "Point", "coordinates": list(CHESHIRE)}, "place": "Hatchmere"}
    big = activity(
        client,
        coordinator,
        organisation="Cheshire Wildlife",
        volunteers=[v.id for v in in_cheshire],
        **cheshire,
    )
    small = activity(
        client,
        coordinator,
        organisation="Canal Trust",
        volunteers=[v.id for v in in_cheshire[:2]],
        **cheshire,
    )
    carlisle = activity(
        client, coordinator, organisation="Cheshire Wildlife", volunteers=[volunteer.id], hours=2
    )
    assert {big.status_code, small.status_code, carlisle.status_code} == {201}

    def totals(headers: dict[str, str], **params: str) -> Any:
        return client.get("/api/v1/hours/totals", params=params, headers=headers)

    def rows(response: Any) -> dict[str, tuple[int, float]]:
        assert response.status_code == 200, response.text
        return {r["name"]: (r["people"], r["hours"]) for r in response.json()["rows"]}

    assert rows(totals(coordinator, by="organisation")) == {
        "Cheshire Wildlife": (7, 20.0),
        "Canal Trust": (2, 6.0),
        "No organisation": (1, 5.0),  # the deployment, of someone in no organisation
    }
    assert rows(totals(coordinator, by="area")) == {"Cheshire": (6, 24.0), "Cumbria": (1, 7.0)}
    assert rows(totals(coordinator, by="skill")) == {
        "Non-emergency activities": (7, 26.0),
        "First aid": (1, 5.0),
    }
    assert rows(totals(coordinator, by="skill", area="E48000006")) == {
        "Non-emergency activities": (1, 2.0),
        "First aid": (1, 5.0),
    }
    # A forum sees its own area, and no group of fewer than five people.
    seen = totals(viewer, by="organisation")
    assert rows(seen) == {"Cheshire Wildlife": (6, 18.0)}
    assert seen.json()["area"] == "E48000004" and seen.json()["suppressed_below"] == 5
    assert rows(totals(viewer, by="area")) == {"Cheshire": (6, 24.0)}
    assert rows(totals(viewer, by="skill")) == {"Non-emergency activities": (6, 24.0)}
    is_problem(totals(viewer, by="area", area="E48000006"), 404)
    is_problem(totals(coordinator, by="people"), 422)
