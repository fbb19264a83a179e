"""Importing resilience areas: the UK file, a projected CRS, repairs, mistakes, and who sees which."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.area.models import Area
from app.area.service import get_area, import_areas
from app.audit.models import AuditEvent
from app.auth.models import Role
from app.errors import InvalidInput
from cli.main import cli
from geo.errors import GeometryError
from geo.features import read_feature_collection
from tests.app.mapdata import CARLISLE, LONDON, UK_AREAS, add_area
from tests.conftest import bearer

needs_uk_areas = pytest.mark.skipif(not UK_AREAS.exists(), reason="../shared/data is not beside this clone")


def collection(*features: dict[str, Any], crs: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "FeatureCollection", "features": list(features)}
    if crs is not None:
        body["crs"] = {"type": "name", "properties": {"name": crs}}
    return body


def polygon_feature(code: str, ring: list[list[float]], name: str | None = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name or f"Area {code}"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def load(db: Session, body: dict[str, Any], srid: int | None = None) -> Any:
    return import_areas(
        db,
        collection=read_feature_collection(body, srid=srid),
        code_field="code",
        name_field="name",
        actor="test",
    )


@needs_uk_areas
def test_imports_all_58_uk_areas_then_updates_them(db: Session) -> None:
    uk = read_feature_collection(json.loads(UK_AREAS.read_text()))
    first = import_areas(db, collection=uk, code_field="LRFCode", name_field="LRFName", actor="test")
    assert first.srid == 4326
    assert len(first.inserted) == 58 and first.updated == []
    assert {c[:3] for c in first.inserted} >= {"E48", "W41"}
    assert sum(c.startswith("E48") for c in first.inserted) == 38
    assert sum(c.startswith("W41") for c in first.inserted) == 4
    again = import_areas(db, collection=uk, code_field="LRFCode", name_field="LRFName", actor="test")
    assert again.inserted == [] and len(again.updated) == 58
    assert db.scalar(select(func.count()).select_from(Area)) == 58
    invalid = db.scalar(select(func.count()).select_from(Area).where(~func.ST_IsValid(Area.geom)))
    assert invalid == 0
    cumbria = get_area(db, code="E48000006")
    assert cumbria.name == "Cumbria"
    inside = db.scalar(
        select(func.ST_Contains(Area.geom, func.ST_SetSRID(func.ST_MakePoint(*CARLISLE), 4326))).where(
            Area.code == "E48000006"
        )
    )
    assert inside
    london = db.scalar(
        select(Area.code).where(
            func.ST_Contains(Area.geom, func.ST_SetSRID(func.ST_MakePoint(*LONDON), 4326))
        )
    )
    assert london == "E48000021"
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "areas.imported")).all()
    assert len(audit) == 2


def test_a_file_in_british_national_grid_is_transformed_to_wgs84(db: Session) -> None:
    square = [[-3.0, 54.8], [-2.8, 54.8], [-2.8, 54.95], [-3.0, 54.95], [-3.0, 54.8]]
    # The same square in EPSG:27700 metres, as a GIS export with a declared CRS would hold it.
    bng = json.loads(
        db.scalar(
            text("SELECT ST_AsGeoJSON(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326), 27700), 3)"),
            {"g": json.dumps({"type": "Polygon", "coordinates": [square]})},
        )
        or "{}"
    )
    assert 300_000 < bng["coordinates"][0][0][0] < 400_000  # eastings in metres, not degrees
    feature = {"type": "Feature", "properties": {"code": "BNG1", "name": "Eden"}, "geometry": bng}
    report = load(db, collection(feature, crs="urn:ogc:def:crs:EPSG::27700"))
    assert report.srid == 27700 and report.inserted == ["BNG1"] and report.repaired == []
    distance = db.scalar(
        select(
            func.ST_HausdorffDistance(Area.geom, func.ST_GeomFromGeoJSON(json.dumps(feature_geom(square))))
        ).where(Area.code == "BNG1")
    )
    assert distance is not None and distance < 1e-6
    assert db.scalar(select(func.ST_SRID(Area.geom)).where(Area.code == "BNG1")) == 4326


def feature_geom(ring: list[list[float]]) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [ring],
        "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
    }


def test_a_bow_tie_is_repaired_and_reported(db: Session) -> None:
    bow_tie = [[-3.0, 54.0], [-2.0, 55.0], [-2.0, 54.0], [-3.0, 55.0], [-3.0, 54.0]]
    report = load(db, collection(polygon_feature("BOW", bow_tie, name="Bow tie")))
    assert report.inserted == ["BOW"]
    assert len(report.repaired) == 1
    repair = report.repaired[0]
    assert (repair.code, repair.name) == ("BOW", "Bow tie")
    assert "Self-intersection" in repair.reason
    valid, parts, kind = db.execute(
        select(
            func.ST_IsValid(Area.geom), func.ST_NumGeometries(Area.geom), func.GeometryType(Area.geom)
        ).where(Area.code == "BOW")
    ).one()
    assert valid and kind == "MULTIPOLYGON" and parts == 2  # two triangles meeting at the crossing


def test_an_unclosed_ring_is_closed_and_reported(db: Session) -> None:
    report = load(db, collection(polygon_feature("OPEN", [[0, 51], [1, 51], [1, 52], [0, 52]])))
    assert report.inserted == ["OPEN"]
    assert [(r.code, r.reason) for r in report.repaired] == [
        ("OPEN", "IllegalArgumentException: Points of LinearRing do not form a closed linestring")
    ]
    assert db.scalar(select(func.ST_NPoints(Area.geom)).where(Area.code == "OPEN")) == 5


@pytest.mark.usefixtures("app_on_test_session")
def test_the_cli_imports_and_reports_repairs(tmp_path: Path) -> None:
    good = [[-1.0, 52.0], [-0.9, 52.0], [-0.9, 52.1], [-1.0, 52.1], [-1.0, 52.0]]
    bow_tie = [[-1.0, 53.0], [-0.9, 53.1], [-0.9, 53.0], [-1.0, 53.1], [-1.0, 53.0]]
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(collection(polygon_feature("CLI-1", good), polygon_feature("CLI-2", bow_tie))))
    result = CliRunner().invoke(
        cli, ["areas", "import", str(path), "--code-field", "code", "--name-field", "name"]
    )
    assert result.exit_code == 0, result.output
    assert "repaired CLI-2 (Area CLI-2): Self-intersection" in result.output
    assert "imported 2 areas from areas.geojson (EPSG:4326): 2 new, 0 updated, 1 repaired" in result.output
    listed = CliRunner().invoke(cli, ["areas", "list"])
    assert "CLI-1\tArea CLI-1\t-1.000,52.000,-0.900,52.100" in listed.output


@pytest.mark.usefixtures("app_on_test_session")
def test_cli_errors_are_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    point = {
        "type": "Feature",
        "properties": {"code": "P"},
        "geometry": {"type": "Point", "coordinates": [0, 51]},
    }
    path.write_text(json.dumps(collection(point)))
    result = CliRunner().invoke(
        cli, ["areas", "import", str(path), "--code-field", "code", "--name-field", "name"]
    )
    assert result.exit_code == 2
    assert "feature 0: geometry must be a Polygon or MultiPolygon, got 'Point'" in result.output


@pytest.mark.parametrize(
    ("body", "srid", "needle"),
    [
        (
            collection(polygon_feature("X", [[0, 51], [1, 51], [1, 52], [0, 51]]), crs="EPSG:999999"),
            None,
            "999999",
        ),
        (
            collection(
                polygon_feature(
                    "BNG", [[330000, 555000], [340000, 555000], [340000, 565000], [330000, 555000]]
                )
            ),
            None,
            "not lon/lat",
        ),
        (
            collection(
                {
                    "type": "Feature",
                    "properties": {"name": "No code"},
                    "geometry": {"type": "Polygon", "coordinates": [[[0, 51], [1, 51], [1, 52], [0, 51]]]},
                }
            ),
            None,
            "property 'code' is missing (it has: name)",
        ),
        (
            collection(polygon_feature("LINE", [[0, 51], [1, 51]])),
            None,
            "feature 0 (LINE): the boundary encloses no",
        ),
        (collection(polygon_feature("JUNK", [["a", 51], [1, 51], [1, 52], ["a", 51]])), None, "['a', 51]"),
    ],
)
def test_unusable_files_say_what_is_wrong(
    db: Session, body: dict[str, Any], srid: int | None, needle: str
) -> None:
    with pytest.raises(GeometryError) as error:
        load(db, body, srid)
    assert needle in str(error.value)
    assert db.scalar(select(func.count()).select_from(Area)) == 0  # the session is still usable


def test_duplicate_codes_are_refused(db: Session) -> None:
    ring = [[0, 51], [1, 51], [1, 52], [0, 51]]
    with pytest.raises(InvalidInput, match="DUP"):
        load(db, collection(polygon_feature("DUP", ring), polygon_feature("DUP", ring)))


def test_viewers_see_their_own_area_only(client: TestClient, db: Session, admin: dict[str, str]) -> None:
    add_area(db, "HOME", CARLISLE)
    add_area(db, "AWAY", LONDON)
    viewer = bearer(db, Role.lrf_viewer, area="HOME")
    assert [a["code"] for a in client.get("/api/v1/areas", headers=admin).json()["items"]] == ["AWAY", "HOME"]
    mine = client.get("/api/v1/areas", headers=viewer).json()
    assert [a["code"] for a in mine["items"]] == ["HOME"] and mine["total"] == 1
    west, south, east, north = mine["items"][0]["bbox"]
    assert west < CARLISLE[0] < east and south < CARLISLE[1] < north
    feature = client.get("/api/v1/areas/HOME", headers=viewer)
    assert feature.status_code == 200 and feature.headers["content-type"] == "application/geo+json"
    assert feature.json()["geometry"]["type"] == "MultiPolygon"
    for code in ("AWAY", "NOWHERE"):
        response = client.get(f"/api/v1/areas/{code}", headers=viewer)
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"area {code} does not exist"
    assert client.get("/api/v1/areas").status_code == 401
