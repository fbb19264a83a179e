"""The pieces of `nvr incidents` that need no API: reading needs, places, areas and times as meant."""

import json

import pytest
import typer

from cli.incidents import _area, _instant, _locate, _needs, finished


def test_needs_are_skill_equals_count():
    assert _needs(["first_aid=4", " driver_4x4 = 2"]) == [
        {"skill": "first_aid", "count": 4},
        {"skill": "driver_4x4", "count": 2},
    ]
    with pytest.raises(typer.BadParameter, match="SKILL=COUNT"):
        _needs(["first_aid"])


def test_a_place_is_a_name_or_a_grid_reference():
    lon, lat = _locate("Lerwick")
    assert round(lon, 2) == -1.14 and round(lat, 2) == 60.15
    lon, lat = _locate("NN 166 712")  # Ben Nevis
    assert round(lon, 2) == -5.0 and round(lat, 2) == 56.8
    with pytest.raises(typer.BadParameter, match="no UK place"):
        _locate("Atlantis")


def test_a_time_without_an_offset_is_uk_time():
    assert _instant("2026-07-04T10:00") == "2026-07-04T10:00:00+01:00"  # BST
    assert _instant("2026-12-14T10:00") == "2026-12-14T10:00:00+00:00"
    assert _instant("2026-12-14T10:00:00+02:00") == "2026-12-14T10:00:00+02:00"


def test_an_area_file_may_be_a_geometry_a_feature_or_one_feature(tmp_path):
    point = {"type": "Point", "coordinates": [-2.9, 54.9]}
    for content in (
        point,
        {"type": "Feature", "geometry": point},
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": point}]},
    ):
        path = tmp_path / "area.geojson"
        path.write_text(json.dumps(content))
        assert _area(path) == point
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(typer.BadParameter, match="0 features"):
        _area(path)


def test_watching_stops_when_filled_or_closed():
    need = {"filled": False}
    assert finished({"status": "open", "needs": [need]}) is None
    assert finished({"status": "open", "needs": [{"filled": True}]}) == "every need is filled"
    assert finished({"status": "closed", "needs": [need]}) == "the incident is closed"
