"""Bulk CSV import: all rows or none, row-level errors, upsert, the API upload and the CLI."""

import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from typer.testing import CliRunner

from app.api import volunteers as routes
from app.audit.models import AuditEvent
from app.volunteer.importer import import_volunteers
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.schemas import CredentialCreate, GeoPoint, VolunteerCreate, VolunteerUpdate
from app.volunteer.service import create_volunteer, update_volunteer
from cli.main import cli

HEADER = "name,phone,lon,lat,skills,max_travel_km,languages,organisations"
GOOD = "\n".join(
    [
        HEADER,
        "Ada Lovelace,07123 456001,-2.9350,54.8925,first_aid:2:2027-03-01;chainsaw,25,en;cy,"
        "British Red Cross",
        'Grace Hopper,+44 7123 456002,-1.5491,53.8008,"welfare",,,',
        "Mary Somerville,07123456003,-3.1883,55.9533,,,,St John Ambulance;British Red Cross",
    ]
)
PHONES = ["+447123456001", "+447123456002", "+447123456003"]


def load(db: Session, phone: str) -> Volunteer:
    db.expire_all()
    volunteer = db.scalar(
        select(Volunteer)
        .where(Volunteer.phone == phone)
        .options(selectinload(Volunteer.credentials), selectinload(Volunteer.organisations))
    )
    assert volunteer is not None, phone
    return volunteer


def count_phones(db: Session, phones: list[str]) -> int:
    return db.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.phone.in_(phones))) or 0


def test_good_file_imports_every_row_with_passport_and_one_audit_event(db: Session) -> None:
    seen: list[tuple[str, int, int]] = []
    summary = import_volunteers(
        db, text=GOOD, actor="test", progress=lambda stage, done, total: seen.append((stage, done, total))
    )
    assert (summary.created, summary.updated, summary.errors) == (3, 0, [])
    ada = load(db, "+447123456001")
    assert ada.name == "Ada Lovelace"
    assert (to_shape(ada.location).x, to_shape(ada.location).y) == pytest.approx((-2.9350, 54.8925))
    assert sorted((c.skill_code, c.level, c.expires_on) for c in ada.credentials) == [
        ("chainsaw", 1, None),
        ("first_aid", 2, date(2027, 3, 1)),
    ]
    assert ada.max_travel_km == 25
    assert ada.languages == ["en", "cy"]
    assert ada.status is VolunteerStatus.active
    assert ada.consent_at is None  # no consent column, so no consent is recorded
    grace = load(db, "+447123456002")
    assert grace.languages == ["en"] and grace.max_travel_km is None
    mary = load(db, "+447123456003")
    assert sorted(o.name for o in mary.organisations) == ["British Red Cross", "St John Ambulance"]
    assert mary.credentials == []
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "volunteer.imported")).all()
    assert [e.detail for e in events] == [{"rows": 3, "created": 3, "updated": 0, "upsert": False}]
    assert seen[-1] == ("writing", 3, 3)
    assert ("checking", 3, 3) in seen


def test_bad_rows_import_nothing_and_each_is_reported(db: Session) -> None:
    text = "\n".join(
        [
            HEADER,
            "Good Person,07123 456001,-2.93,54.89,first_aid,,,",
            "Bad Phone,01228 817000,-2.93,54.89,,,,",
            "Bad Skill,07123 456003,-2.93,54.89,first_aid;dragon_taming,,,",
            "Bad Lat,07123 456004,-2.93,95,,,,",
            "Repeat,+447123456001,-2.93,54.89,,,,",
            ",07123 456006,abc,54.89,first_aid:9,,,",
            "Bad Date,07123 456007,-2.93,54.89,first_aid:2:someday,-5,,",
        ]
    )
    summary = import_volunteers(db, text=text, actor="test")
    assert summary.created == 0 and summary.updated == 0
    assert [(e.row, e.column) for e in summary.errors] == [
        (3, "phone"),
        (4, "skills"),
        (5, "lat"),
        (6, "phone"),
        (7, "name"),
        (7, "lon"),
        (7, "skills"),
        (8, "skills"),
        (8, "max_travel_km"),
    ]
    messages = {(e.row, e.column): e.message for e in summary.errors}
    assert "not a mobile" in messages[(3, "phone")]
    assert "dragon_taming" in messages[(4, "skills")] and "first_aid" in messages[(4, "skills")]
    assert "latitude 95 is out of range" in messages[(5, "lat")]
    assert messages[(6, "phone")] == "+447123456001 is also on row 2"
    assert messages[(7, "name")] == "is required"
    assert "'first_aid:9'" in messages[(7, "skills")] and "level" in messages[(7, "skills")]
    assert "'first_aid:2:someday'" in messages[(8, "skills")]
    assert count_phones(db, [f"+44712345600{i}" for i in range(1, 8)]) == 0
    assert db.scalar(select(func.count()).where(AuditEvent.action == "volunteer.imported")) == 0


@pytest.mark.parametrize(
    ("header", "column", "needle"),
    [
        ("name,phone,lon", "lat", "required column 'lat' is missing"),
        ("name,phone,lon,lat,skils", "skils", "unknown column 'skils'"),
        ("name,phone,lon,lat,phone", "phone", "more than once"),
        ("", "", "no header row"),
    ],
)
def test_unusable_header_is_row_1(db: Session, header: str, column: str, needle: str) -> None:
    summary = import_volunteers(db, text=f"{header}\nAda,07123 456001,-2.9,54.9,x\n", actor="test")
    assert [(e.row, e.column) for e in summary.errors] == [(1, column)]
    assert needle in summary.errors[0].message
    assert count_phones(db, ["+447123456001"]) == 0


def test_row_numbers_count_blank_lines_and_quoted_commas(db: Session) -> None:
    text = f'{HEADER}\n"Smith, Jo",07123 456001,-2.9,54.9,,,,\n\nBad,0712,-2.9,54.9,,,,\n'
    summary = import_volunteers(db, text=text, actor="test")
    assert [(e.row, e.column) for e in summary.errors] == [(4, "phone")]


def test_existing_phone_is_an_error_unless_upsert_which_updates(db: Session) -> None:
    existing = create_volunteer(
        db,
        data=VolunteerCreate(
            name="Old Name",
            phone="07123 456001",
            location=GeoPoint(type="Point", coordinates=[-1.0, 52.0]),
            skills=[CredentialCreate(code="boat_crew")],
            organisations=["Old Org"],
        ),
        actor="test",
    )
    update_volunteer(db, volunteer_id=existing.id, data=VolunteerUpdate(status="opted_out"), actor="test")

    refused = import_volunteers(db, text=GOOD, actor="test")
    assert [(e.row, e.column) for e in refused.errors] == [(2, "phone")]
    assert f"belongs to volunteer {existing.id}" in refused.errors[0].message
    assert count_phones(db, PHONES) == 1

    summary = import_volunteers(db, text=GOOD, actor="test", upsert=True)
    assert (summary.created, summary.updated, summary.errors) == (2, 1, [])
    ada = load(db, "+447123456001")
    assert ada.id == existing.id
    assert ada.name == "Ada Lovelace"
    assert (to_shape(ada.location).x, to_shape(ada.location).y) == pytest.approx((-2.9350, 54.8925))
    assert sorted(c.skill_code for c in ada.credentials) == ["chainsaw", "first_aid"]
    assert [o.name for o in ada.organisations] == ["British Red Cross"]
    assert ada.status is VolunteerStatus.opted_out, "an import must not undo an opt-out"
    assert count_phones(db, PHONES) == 3


def test_upsert_leaves_details_whose_column_is_absent(db: Session) -> None:
    import_volunteers(db, text=GOOD, actor="test")
    summary = import_volunteers(
        db, text="name,phone,lon,lat\nAda King,07123 456001,-3.0,54.0\n", actor="test", upsert=True
    )
    assert (summary.created, summary.updated) == (0, 1)
    ada = load(db, "+447123456001")
    assert ada.name == "Ada King"
    assert sorted(c.skill_code for c in ada.credentials) == ["chainsaw", "first_aid"]
    assert ada.max_travel_km == 25
    assert [o.name for o in ada.organisations] == ["British Red Cross"]


def test_api_upload_imports_and_upserts(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/volunteers/import",
        files={"file": ("reserve.csv", GOOD.encode("utf-8-sig"), "text/csv")},
        headers=coordinator,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 3, "updated": 0}
    listed = client.get("/api/v1/volunteers?skill=chainsaw", headers=coordinator).json()
    assert [v["phone"] for v in listed["items"]] == ["+447123456001"]
    again = client.post(
        "/api/v1/volunteers/import?upsert=true",
        files={"file": ("reserve.csv", GOOD.encode(), "text/csv")},
        headers=coordinator,
    )
    assert again.status_code == 200, again.text
    assert again.json() == {"created": 0, "updated": 3}


def test_api_bad_rows_are_a_422_listing_every_error(
    client: TestClient, admin: dict[str, str], db: Session
) -> None:
    content = "\n".join(
        [
            HEADER,
            "Good,07123 456001,-2.9,54.9,,,,",
            "Bad,12345,-2.9,54.9,,,,",
            "Worse,07123 456003,-2.9,-91,,,,",
        ]
    )
    response = client.post(
        "/api/v1/volunteers/import",
        files={"file": ("reserve.csv", content.encode(), "text/csv")},
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert "nothing was imported" in body["detail"]
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "phone"), (4, "lat")]
    assert all(e["message"] for e in body["errors"])
    assert count_phones(db, ["+447123456001"]) == 0


def test_api_refuses_non_utf8_and_oversized_files(
    client: TestClient, coordinator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    latin1 = f"{HEADER}\nZoë,07123 456001,-2.9,54.9,,,,\n".encode("latin-1")
    response = client.post(
        "/api/v1/volunteers/import", files={"file": ("r.csv", latin1, "text/csv")}, headers=coordinator
    )
    assert response.status_code == 422
    assert "not UTF-8" in response.json()["detail"] and "line 2" in response.json()["detail"]

    monkeypatch.setattr(routes, "MAX_IMPORT_BYTES", 100)
    big = (GOOD + "\n" + "x" * 200).encode()
    response = client.post(
        "/api/v1/volunteers/import", files={"file": ("r.csv", big, "text/csv")}, headers=coordinator
    )
    assert response.status_code == 413
    assert "20 MB" in response.json()["detail"]


def test_api_roles(client: TestClient, viewer: dict[str, str]) -> None:
    files = {"file": ("reserve.csv", GOOD.encode(), "text/csv")}
    assert client.post("/api/v1/volunteers/import", files=files).status_code == 401
    assert client.post("/api/v1/volunteers/import", files=files, headers=viewer).status_code == 403


@pytest.mark.usefixtures("app_on_test_session")
def test_cli_imports_a_good_file(tmp_path: Path, db: Session) -> None:
    path = tmp_path / "reserve.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(cli, ["volunteers", "import", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated" in result.output
    assert count_phones(db, PHONES) == 3


@pytest.mark.usefixtures("app_on_test_session")
def test_cli_reports_bad_rows_in_a_table_and_exits_1(tmp_path: Path, db: Session) -> None:
    path = tmp_path / "reserve.csv"
    path.write_text(f"{HEADER}\nGood,07123 456001,-2.9,54.9,,,,\nBad,0800 123 4567,-2.9,54.9,,,,\n")
    result = CliRunner().invoke(cli, ["volunteers", "import", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert re.search(r"│\s+3\s+│\s+phone\s+│.*not a mobile", result.output), result.output
    assert "1 problem(s) in reserve.csv; nothing was imported" in result.output
    assert count_phones(db, ["+447123456001"]) == 0

    path.write_bytes("name,phone,lon,lat\nZoë,07123 456001,-2.9,54.9\n".encode("cp1252"))
    result = CliRunner().invoke(cli, ["volunteers", "import", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "not UTF-8" in result.output


def test_consent_is_imported_only_when_given_and_a_blank_name_is_refused(db: Session) -> None:
    text = (
        "name,phone,lon,lat,consent_at\n"
        "Ada,07123 456001,-2.9,54.9,\n"
        "Grace,07123 456002,-2.9,54.9,2026-11-01T09:30:00+00:00\n"
    )
    summary = import_volunteers(db, text=text, actor="test")
    assert (summary.created, summary.errors) == (2, [])
    assert load(db, "+447123456001").consent_at is None
    assert load(db, "+447123456002").consent_at is not None
    blank = import_volunteers(db, text='name,phone,lon,lat\n"   ",07123 456003,-2.9,54.9\n', actor="test")
    assert [(e.row, e.column) for e in blank.errors] == [(2, "name")]
