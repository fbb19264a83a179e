"""Reading FeatureCollections and the CRS they declare."""

from typing import Any

import pytest

from geo.errors import GeometryError
from geo.features import declared_srid, property_text, read_feature_collection


def named(name: str) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": name}},
        "features": [],
    }


@pytest.mark.parametrize(
    ("name", "srid"),
    [
        ("urn:ogc:def:crs:OGC:1.3:CRS84", 4326),
        ("urn:ogc:def:crs:OGC::CRS84", 4326),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326),
        ("urn:ogc:def:crs:EPSG::27700", 27700),
        ("urn:ogc:def:crs:EPSG:6.3:27700", 27700),
        ("EPSG:29902", 29902),
        ("http://www.opengis.net/def/crs/EPSG/0/3857", 3857),
        ("urn:ogc:def:crs:EPSG::4326", 4326),
    ],
)
def test_declared_crs_names(name: str, srid: int) -> None:
    assert declared_srid(named(name)) == srid


def test_no_crs_is_wgs84_as_rfc_7946_says() -> None:
    assert declared_srid({"type": "FeatureCollection", "features": []}) == 4326


@pytest.mark.parametrize(
    ("crs", "needle"),
    [
        ({"type": "link", "properties": {"href": "x"}}, "only a named CRS"),
        ({"type": "name", "properties": {"name": "OSGB 1936 / British National Grid"}}, "cannot read"),
        ({"type": "name", "properties": {"name": 27700}}, "must be a string"),
    ],
)
def test_unreadable_crs(crs: dict[str, Any], needle: str) -> None:
    with pytest.raises(GeometryError, match=needle):
        declared_srid({"type": "FeatureCollection", "crs": crs, "features": []})


def square(**properties: Any) -> dict[str, Any]:
    ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_reads_polygonal_features_with_properties() -> None:
    multi = {"type": "Feature", "properties": None, "geometry": {"type": "MultiPolygon", "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 0]]]]}}  # fmt: skip
    read = read_feature_collection({"type": "FeatureCollection", "features": [square(code=" A1 "), multi]})
    assert read.srid == 4326
    assert [f.index for f in read.features] == [0, 1]
    assert property_text(read.features[0], "code") == "A1"
    assert read.features[1].properties == {}
    assert read_feature_collection(named("EPSG:27700") | {"features": [square()]}, srid=29902).srid == 29902


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"type": "Feature"}, "must hold a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "has no features"),
        (
            {"type": "FeatureCollection", "features": [{"type": "Polygon"}]},
            "feature 0: is not a GeoJSON Feature",
        ),
        (
            {"type": "FeatureCollection", "features": [square(), {"type": "Feature", "geometry": None}]},
            "feature 1: geometry must be a Polygon or MultiPolygon, got None",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[0, 0], [1, 1]]}}
                ],
            },
            "not nested",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, True], [1, 1], [0, 0]]]},
                    }
                ],
            },
            "position [1, True] is not 2 or 3 numbers",
        ),
    ],
)
def test_unusable_collections(body: dict[str, Any], needle: str) -> None:
    with pytest.raises(GeometryError) as error:
        read_feature_collection(body)
    assert needle in str(error.value)


def test_missing_property_names_what_is_there() -> None:
    feature = read_feature_collection(
        {"type": "FeatureCollection", "features": [square(LRFCode="E1")]}
    ).features[0]
    with pytest.raises(GeometryError, match=r"feature 0: property 'code' is missing \(it has: LRFCode\)"):
        property_text(feature, "code")
