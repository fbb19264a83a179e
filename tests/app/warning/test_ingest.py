"""Ingesting warnings through the API and the CLI: the shared real alerts land with the right areas,
updates and cancels change the same warning, and every hostile or invalid document is a 422."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geoalchemy2 import Geography
from sqlalchemy import cast, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.warning.models import IssuedWarning, WarningMessage
from cli.main import cli
from tests.alerts.test_cap import BILLION_LAUGHS, EXTERNAL_ENTITY, alert_xml
from tests.app.mapdata import CARLISLE, LONDON, SHARED_DATA, add_area
from tests.conftest import is_problem

CAP = SHARED_DATA / "cap"
EA_SAMPLE = SHARED_DATA / "ea_flood_warnings_sample.json"
needs_samples = pytest.mark.skipif(not CAP.exists(), reason="../shared/data is not beside this clone")
URL = "/api/v1/warnings"
XML = {"Content-Type": "application/cap+xml"}

# For each sample: real places (lat, lon) inside the warned area, and real places well outside it.
PLACES: dict[str, tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]] = {
    "oasis-thunderstorm.cap": (
        {"Bear Valley, CA": (38.468, -120.044), "Lake Alpine, CA": (38.478, -120.000)},
        {"Sacramento": (38.58, -121.49), "Kirkwood, CA": (38.70, -120.07)},
    ),
    "noaa-": (
        {"Metlakatla, AK": (55.129, -131.572)},
        {"Ketchikan, AK": (55.342, -131.646), "Juneau": (58.30, -134.42), "Anchorage": (61.22, -149.90)},
    ),
    "alertswiss-": (
        {"Sion": (46.233, 7.360), "Zermatt": (46.020, 7.749)},
        {"Geneva": (46.204, 6.143), "Zurich": (47.377, 8.540)},
    ),
    "canada.cap": (
        {"Windsor, ON": (42.317, -83.036), "Chatham, ON": (42.405, -82.185)},
        {"Toronto": (43.65, -79.38), "London, ON": (42.98, -81.25)},
    ),
    "mow.": (
        {"Kassel": (51.312, 9.480), "Frankfurt": (50.110, 8.682)},
        {"Cologne": (50.94, 6.96), "Berlin": (52.52, 13.405)},
    ),
    "australia.cap": (
        {"Yerong Creek": (-35.388, 147.060), "The Rock": (-35.27, 147.07)},
        {"Wagga Wagga": (-35.118, 147.370), "Sydney": (-33.87, 151.21)},
    ),
}


def post(client: TestClient, headers: dict[str, str], body: bytes | str, media: str = "application/cap+xml"):
    data = body.encode() if isinstance(body, str) else body
    return client.post(URL, content=data, headers={**headers, "Content-Type": media})


def covers(db: Session, warning_id: int, lat: float, lon: float) -> bool:
    point = cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)
    return bool(
        db.scalar(select(func.ST_Covers(IssuedWarning.area, point)).where(IssuedWarning.id == warning_id))
    )


def sample(prefix: str) -> Path:
    return next(p for p in sorted(CAP.iterdir()) if p.name.startswith(prefix))


@needs_samples
@pytest.mark.parametrize("prefix", sorted(PLACES))
def test_each_shared_alert_lands_with_the_right_area(
    client: TestClient, db: Session, coordinator: dict[str, str], prefix: str
) -> None:
    response = post(client, coordinator, sample(prefix).read_bytes())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 1 and body["items"][0]["outcome"] == "created"
    warning = body["items"][0]["warning"]
    assert warning["not_located"] is False and warning["bbox"] is not None
    inside, outside = PLACES[prefix]
    for name, (lat, lon) in inside.items():
        assert covers(db, warning["id"], lat, lon), f"{name} should be inside"
    for name, (lat, lon) in outside.items():
        assert not covers(db, warning["id"], lat, lon), f"{name} should be outside"
    again = post(client, coordinator, sample(prefix).read_bytes())
    assert again.status_code == 200 and again.json()["items"][0]["outcome"] == "duplicate"
    assert again.json()["items"][0]["warning"]["id"] == warning["id"]


@needs_samples
def test_the_detailed_nws_outline_is_simplified_to_the_vertex_limit(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    response = post(client, coordinator, sample("noaa-").read_bytes())
    assert response.status_code == 201, response.text
    warning = db.get(IssuedWarning, response.json()["items"][0]["warning"]["id"])
    assert warning is not None
    points = db.scalar(
        select(func.ST_NPoints(func.geometry(IssuedWarning.area))).where(IssuedWarning.id == warning.id)
    )
    assert 1_000 < points <= 10_000  # 93,040 positions came in
    assert (
        warning.raw_size == len(sample("noaa-").read_text(encoding="utf-8"))
        and len(warning.raw) < warning.raw_size
    )


@needs_samples
def test_languages_are_kept_and_codes_we_cannot_place_are_flagged(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    canada = post(client, coordinator, sample("canada.cap").read_bytes()).json()["items"][0]["warning"]
    assert canada["language"] == "en-CA" and canada["languages"] == ["en-CA", "fr-CA"]
    assert canada["headline"] == "severe thunderstorm watch" and canada["msg_type"] == "update"
    irish = post(client, coordinator, sample("ie-").read_bytes())
    assert irish.status_code == 201
    warning = irish.json()["items"][0]["warning"]
    assert warning["not_located"] is True and warning["bbox"] is None
    assert {g["value"] for g in warning["geocodes"]} == {"EI806", "EI807", "EI808", "EI809"}
    assert all(g["area"] is None for g in warning["geocodes"])
    hessen = post(client, coordinator, sample("mow.").read_bytes()).json()["items"][0]["warning"]
    assert hessen["state"] == "withdrawn" and hessen["msg_type"] == "cancel"  # a cancel of one we never saw
    assert len(hessen["languages"]) == 9 and hessen["language"] == "en"


def test_a_geocode_naming_a_resilience_area_places_the_warning(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    add_area(db, "E48000006", CARLISLE, radius_km=30)
    area = "<areaDesc>Cumbria</areaDesc><geocode><valueName>LRF</valueName><value>E48000006</value></geocode>"
    body = alert_xml(area=area).replace("<areaDesc>Carlisle</areaDesc>", "")
    warning = post(client, coordinator, body).json()["items"][0]["warning"]
    assert warning["not_located"] is False
    assert warning["geocodes"] == [{"name": "LRF", "value": "E48000006", "area": "E48000006"}]
    assert covers(db, warning["id"], CARLISLE[1], CARLISLE[0])
    assert not covers(db, warning["id"], LONDON[1], LONDON[0])
    listed = client.get(URL, params={"area": "E48000006"}, headers=coordinator).json()
    assert [w["id"] for w in listed["items"]] == [warning["id"]]


def test_an_update_changes_the_same_warning_and_a_cancel_withdraws_it(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    first = post(client, coordinator, alert_xml())
    assert first.status_code == 201
    warning_id = first.json()["items"][0]["warning"]["id"]
    ref = "test@nvr,TEST-1,2026-12-04T10:00:00+00:00"
    # An older-looking spelling of the same instant still matches the reference.
    update = alert_xml(
        identifier="TEST-2",
        sent="2026-12-04T12:00:00+01:00",
        msg_type="Update",
        references=ref.replace("+00:00", "-00:00"),
        area="<circle>54.89,-2.93 10</circle>",
    ).replace("Flooding in Carlisle", "Flooding in Carlisle and Brampton")
    updated = post(client, coordinator, update)
    assert updated.status_code == 200, updated.text
    item = updated.json()["items"][0]
    assert item["outcome"] == "updated" and item["warning"]["id"] == warning_id
    assert item["warning"]["headline"] == "Flooding in Carlisle and Brampton"
    assert item["warning"]["identifier"] == "TEST-2" and item["warning"]["messages"] == 2
    assert covers(db, warning_id, 54.95, -2.93) and not covers(db, warning_id, 55.2, -2.93)
    # The original again is a duplicate; an old alert arriving late changes nothing.
    assert post(client, coordinator, alert_xml()).json()["items"][0]["outcome"] == "duplicate"
    cancel = alert_xml(
        identifier="TEST-3", sent="2026-12-04T13:00:00+00:00", msg_type="Cancel", references=ref
    )
    cancelled = post(client, coordinator, cancel)
    assert cancelled.status_code == 200
    item = cancelled.json()["items"][0]
    assert item["outcome"] == "withdrawn" and item["warning"]["id"] == warning_id
    assert (
        item["warning"]["state"] == "withdrawn"
        and item["warning"]["withdrawn_reason"] == "cancelled by test@nvr"
    )
    assert db.scalar(select(func.count()).select_from(IssuedWarning)) == 1
    assert db.scalar(select(func.count()).select_from(WarningMessage)) == 3
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "warning")).all()
    assert actions == ["warnings.created", "warnings.updated", "warnings.duplicate", "warnings.withdrawn"]


def test_an_alert_arriving_after_its_own_update_changes_nothing(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    update = alert_xml(
        identifier="TEST-2",
        sent="2026-12-04T11:00:00+00:00",
        msg_type="Update",
        references="test@nvr,TEST-1,2026-12-04T10:00:00+00:00",
    )
    made = post(client, coordinator, update).json()["items"][0]
    assert made["outcome"] == "created"
    late = post(client, coordinator, alert_xml())
    assert late.status_code == 200
    assert late.json()["items"][0]["outcome"] == "stale"
    assert late.json()["items"][0]["warning"]["id"] == made["warning"]["id"]


@pytest.mark.skipif(not EA_SAMPLE.exists(), reason="../shared/data is not beside this clone")
def test_the_ea_sample_ingests_and_its_updates_change_the_same_warnings(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    response = post(client, coordinator, EA_SAMPLE.read_bytes(), "application/json")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 171 and len(body["items"]) == 171
    by_area = {i["warning"]["identifier"]: i["warning"] for i in body["items"]}
    bridlington = by_area["122WAC954"]
    assert bridlington["severity"] == "moderate" and bridlington["ea_severity_level"] == 3
    assert bridlington["event"] == "Flood Alert" and bridlington["state"] == "active"
    assert datetime.fromisoformat(bridlington["sent"]) == datetime(
        2016, 3, 27, 9, 52, tzinfo=UTC
    )  # 10:52 BST
    assert bridlington["not_located"] is True
    assert bridlington["area_url"].endswith("/floodAreas/122WAC954/polygon")
    assert by_area["122FWC001"]["state"] == "withdrawn"  # severity 4: no longer in force
    assert sum(w["ea_severity_level"] == 2 for w in by_area.values()) == 28
    assert post(client, coordinator, EA_SAMPLE.read_bytes(), "application/json").json()["unchanged"] == 171
    item = json.loads(EA_SAMPLE.read_text())["items"][0]
    raised = {
        **item,
        "severityLevel": 2,
        "severity": "Flood Warning",
        "timeMessageChanged": "2016-03-27T12:00:00",
    }
    updated = post(client, coordinator, json.dumps({"items": raised}), "application/json")
    assert updated.status_code == 200
    assert updated.json()["items"][0]["outcome"] == "updated"
    assert updated.json()["items"][0]["warning"]["id"] == bridlington["id"]
    assert updated.json()["items"][0]["warning"]["severity"] == "severe"
    ended = {
        **raised,
        "severityLevel": 4,
        "severity": "Warning no longer in force",
        "timeMessageChanged": "2016-03-27T13:00:00",
    }
    withdrawn = post(client, coordinator, json.dumps({"items": [ended]}), "application/json").json()["items"][
        0
    ]
    assert withdrawn["outcome"] == "withdrawn" and withdrawn["warning"]["state"] == "withdrawn"
    again = {**raised, "timeMessageChanged": "2016-03-28T09:00:00"}
    reraised = post(client, coordinator, json.dumps({"items": [again]}), "application/json")
    assert reraised.status_code == 201 and reraised.json()["items"][0]["warning"]["id"] != bridlington["id"]
    assert db.scalar(select(func.count()).select_from(IssuedWarning)) == 172


def test_listing_filters_by_severity_and_keeps_recent_ones(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    post(client, coordinator, alert_xml())
    post(client, coordinator, alert_xml(identifier="MINOR-1").replace("Severe", "Minor"))
    everything = client.get(URL, headers=coordinator).json()
    assert everything["total"] == 2
    severe = client.get(URL, params={"severity": ["severe", "extreme"]}, headers=coordinator).json()
    assert [w["identifier"] for w in severe["items"]] == ["TEST-1"]
    # Both expired long ago (no expires: in force) - with no recent window only those in force remain.
    assert client.get(URL, params={"recent_hours": 0}, headers=coordinator).json()["total"] == 2


def test_only_admins_and_coordinators_may_post(client: TestClient, viewer: dict[str, str]) -> None:
    is_problem(post(client, viewer, alert_xml()), 403)
    is_problem(post(client, {}, alert_xml()), 401)


def huge_polygon(points: int) -> str:
    ring = " ".join(f"{50 + (i % 1000) / 1000:.3f},{-(i // 1000) / 1000:.3f}" for i in range(points))
    return f"<polygon>{ring} 50.000,-0.000</polygon>"


HOSTILE: dict[str, tuple[bytes, str, str]] = {
    "billion laughs": (BILLION_LAUGHS.encode(), XML["Content-Type"], "declares a DTD"),
    "external entity": (EXTERNAL_ENTITY.encode(), XML["Content-Type"], "declares a DTD"),
    "not CAP": (b"<note><to>you</to></note>", "application/xml", "not a CAP alert"),
    "invalid CAP": (alert_xml(msg_type="Ack").encode(), XML["Content-Type"], "msgType 'Ack'"),
    "wrong encoding": (
        alert_xml().replace("Carlisle</headline>", "Carlisl\u00e9</headline>").encode("latin-1"),
        XML["Content-Type"],
        "declares encoding 'UTF-8', but byte 0xe9",
    ),
    "undeclared encoding": (
        alert_xml(declaration="")
        .replace("Carlisle</headline>", "Carlisl\u00e9</headline>")
        .encode("latin-1"),
        XML["Content-Type"],
        "declares no encoding, so it must be UTF-8",
    ),
    "unknown encoding": (
        alert_xml(declaration='<?xml version="1.0" encoding="x-unknown"?>').encode(),
        XML["Content-Type"],
        "not one we can read",
    ),
    "deep nesting": (b"<a>" * 100 + b"</a>" * 100, XML["Content-Type"], "more than 32 deep"),
    "oversized": (b"<a>" + b" " * (4 * 1024 * 1024 + 10) + b"</a>", XML["Content-Type"], "over the limit"),
    "enormous polygon": (
        alert_xml(area=huge_polygon(210_000)).encode(),
        XML["Content-Type"],
        "over the limit of 200,000",
    ),
    "enormous area": (
        alert_xml(area="<polygon>-60,-80 -60,80 70,80 70,-80 -60,-80</polygon>").encode(),
        XML["Content-Type"],
        "km² is over the limit",
    ),
    "JSON not EA": (b'{"hello": 1}', "application/json", "expected an Environment Agency"),
    "EA bad level": (
        b'{"items": [{"floodAreaID": "X1", "severityLevel": 9}]}',
        "application/json",
        "items[0].severityLevel",
    ),
    "deep JSON": (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested too deep"),
    "broken JSON": (b'{"items": [', "application/json", "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_and_invalid_documents_are_a_422_saying_why_and_write_nothing(
    client: TestClient, db: Session, coordinator: dict[str, str], case: str
) -> None:
    body, media, needle = HOSTILE[case]
    problem = is_problem(post(client, coordinator, body, media), 422)
    assert needle in problem["detail"], problem["detail"]
    assert db.scalar(select(func.count()).select_from(IssuedWarning)) == 0
    assert db.scalar(select(func.count()).select_from(WarningMessage)) == 0


def test_a_feed_with_one_bad_alert_writes_none(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    good, bad = alert_xml(declaration=""), alert_xml(identifier="BAD", sent="never", declaration="")
    feed = f'<feed xmlns="http://www.w3.org/2005/Atom"><entry>{good}</entry><entry>{bad}</entry></feed>'
    problem = is_problem(post(client, coordinator, feed, "application/atom+xml"), 422)
    assert problem["detail"].startswith("entry 1: sent 'never'")
    assert db.scalar(select(func.count()).select_from(IssuedWarning)) == 0


def test_bodies_far_over_the_limit_are_cut_off_unread_and_other_types_refused(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    is_problem(post(client, coordinator, b" " * (8 * 1024 * 1024 + 1)), 413)
    problem = is_problem(post(client, coordinator, b"hello", "text/plain"), 415)
    assert "application/cap+xml" in problem["detail"]


@pytest.mark.usefixtures("app_on_test_session")
def test_the_cli_ingests_either_format_and_refuses_bad_files(tmp_path: Path, db: Session) -> None:
    cap_file = tmp_path / "alert.xml"
    cap_file.write_text(alert_xml())
    result = CliRunner().invoke(cli, ["warnings", "ingest", str(cap_file)])
    assert result.exit_code == 0, result.output
    assert "created\twarning" in result.output and "1 messages from alert.xml: 1 new" in result.output
    ea_file = tmp_path / "floods.json"
    ea_file.write_text(json.dumps({"items": [_ea_item()]}))
    result = CliRunner().invoke(cli, ["warnings", "ingest", str(ea_file)])
    assert result.exit_code == 0, result.output
    assert "Flood Warning: River Test" in result.output
    bad = tmp_path / "bad.xml"
    bad.write_text(EXTERNAL_ENTITY)
    result = CliRunner().invoke(cli, ["warnings", "ingest", str(bad)])
    assert result.exit_code == 2 and "bad.xml: the document declares a DTD" in result.output
    assert db.scalar(select(func.count()).select_from(IssuedWarning)) == 2


def _ea_item() -> dict[str, Any]:
    return {
        "floodAreaID": "999FWTEST",
        "severityLevel": 2,
        "severity": "Flood Warning",
        "description": "River Test",
        "timeRaised": "2026-12-04T10:00:00",
        "timeMessageChanged": "2026-12-04T10:00:00",
    }
