import math

import pytest
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.errors import GeometryError
from geo.geojson import AUTHALIC_RADIUS_KM, geodesic_area_km2, parse_area, parse_point, to_ewkt, to_geojson

SQUARE = [[-2.95, 54.88], [-2.92, 54.88], [-2.92, 54.90], [-2.95, 54.90], [-2.95, 54.88]]  # around Carlisle
HOLE = [[-2.94, 54.885], [-2.93, 54.885], [-2.93, 54.895], [-2.94, 54.895], [-2.94, 54.885]]
BOW_TIE = [[-2.94, 54.88], [-2.92, 54.90], [-2.92, 54.88], [-2.94, 54.90], [-2.94, 54.88]]
EAST = [
    [-2.92, 54.90],
    [-2.90, 54.90],
    [-2.90, 54.92],
    [-2.92, 54.92],
    [-2.92, 54.90],
]  # touches SQUARE's corner
EUROPE = [[-10, 36], [30, 36], [30, 70], [-10, 70], [-10, 36]]


def polygon(*rings):
    return {"type": "Polygon", "coordinates": list(rings)}


def point(*coordinates):
    return {"type": "Point", "coordinates": list(coordinates)}


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([-2.93, 54.89], "location: expected a GeoJSON object, got array"),
        ("POINT(-2.93 54.89)", "location: expected a GeoJSON object, got string"),
        (polygon(SQUARE), "location: type must be 'Point', got 'Polygon'"),
        ({"coordinates": [-2.93, 54.89]}, "location: type must be 'Point', got None"),
        (point(-2.93, 95), "location: latitude 95 is out of range [-90, 90]"),
        (point(-2.93, -90.5), "location: latitude -90.5 is out of range [-90, 90]"),
        (point(180.0001, 54.89), "location: longitude 180.0001 is out of range [-180, 180]"),
        (point(), "location: point is empty"),
        ({"type": "Point"}, "location: point is empty"),
        (point(-2.93), "location: position must have 2 or 3 numbers [lon, lat], got 1"),
        (point(-2.93, 54.89, 10, 1), "location: position must have 2 or 3 numbers [lon, lat], got 4"),
        (point("-2.93", 54.89), "location: longitude must be a number, got '-2.93'"),
        (point(-2.93, True), "location: latitude must be a number, got True"),
        (point(-2.93, None), "location: latitude must be a number, got None"),
        (point(math.nan, 54.89), "location: longitude nan is not a finite number"),
        (point(-2.93, math.inf), "location: latitude inf is not a finite number"),
        (point(-2.93, 54.89, "high"), "location: altitude must be a number, got 'high'"),
        (
            {"type": "Point", "coordinates": {"lon": 1, "lat": 2}},
            "location: position must be an array [lon, lat], got object",
        ),
    ],
)
def test_parse_point_rejects(obj, message):
    with pytest.raises(GeometryError) as caught:
        parse_point(obj)
    assert str(caught.value) == message


def test_parse_point_names_the_field():
    with pytest.raises(GeometryError, match=r"^home: latitude 91 is out of range"):
        parse_point(point(0, 91), field="home")


@pytest.mark.parametrize(
    ("coordinates", "expected"),
    [
        ([-2.93, 54.89], (-2.93, 54.89)),
        ([-2.93, 54.89, 120.5], (-2.93, 54.89)),  # altitude is dropped
        ([180, -90], (180.0, -90.0)),  # the edges of the range are inside it
        ([-180, 90], (-180.0, 90.0)),
    ],
)
def test_parse_point_accepts(coordinates, expected):
    parsed = parse_point({"type": "Point", "coordinates": coordinates})
    assert isinstance(parsed, Point)
    assert not parsed.has_z
    assert (parsed.x, parsed.y) == expected


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (None, "area: expected a GeoJSON object, got null"),
        (
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            "area: type must be 'Point', 'Polygon', 'MultiPolygon' or a 'Feature' of one, got 'LineString'",
        ),
        (
            {"type": "FeatureCollection", "features": []},
            "area: type must be 'Point', 'Polygon', 'MultiPolygon' or a 'Feature' of one, "
            "got 'FeatureCollection'",
        ),
        ({"type": "Feature", "geometry": None, "properties": {}}, "area: feature has no geometry"),
        (
            {"type": "Feature", "geometry": [1, 2]},
            "area: feature geometry: expected a GeoJSON object, got array",
        ),
        (polygon(), "area: polygon is empty"),
        ({"type": "Polygon"}, "area: polygon is empty"),
        ({"type": "MultiPolygon", "coordinates": []}, "area: multipolygon is empty"),
        ({"type": "MultiPolygon", "coordinates": [[]]}, "area: polygon 0 is empty"),
        (
            {"type": "Polygon", "coordinates": "0 0, 1 1"},
            "area: polygon coordinates must be an array, got string",
        ),
        (polygon([]), "area: polygon ring 0 has 0 positions; a ring needs at least 4 (first = last)"),
        (
            polygon([[0, 0], [1, 0], [0, 0]]),
            "area: polygon ring 0 has 3 positions; a ring needs at least 4 (first = last)",
        ),
        (
            polygon(SQUARE[:-1]),
            "area: polygon ring 0 is not closed: it starts at (-2.95, 54.88) but ends at (-2.95, 54.9); "
            "repeat the first position at the end",
        ),
        (
            polygon(
                [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.1], 7]
            ),
            "area: polygon ring 1 position 4: position must be an array [lon, lat], got number",
        ),
        (
            polygon([[0, 0], [1, 0], [1, 95], [0, 0]]),
            "area: polygon ring 0 position 2: latitude 95 is out of range [-90, 90]",
        ),
        (
            polygon([[0, 0], [1, 0], [-181, 1], [0, 0]]),
            "area: polygon ring 0 position 2: longitude -181 is out of range [-180, 180]",
        ),
        (polygon(BOW_TIE), "area: polygon ring 0 self-intersects near (-2.93, 54.89)"),
        (polygon(SQUARE, BOW_TIE), "area: polygon ring 1 self-intersects near (-2.93, 54.89)"),
        (polygon([[0, 0], [1, 1], [2, 2], [0, 0]]), "area: polygon ring 0 self-intersects near (1, 1)"),
        (
            polygon([[0, 0], [1, 0], [0, 0], [0, 0]]),
            "area: polygon ring 0 has fewer than 3 distinct positions near (0, 0)",
        ),
        (
            polygon(SQUARE, [[-2.0, 54.0], [-1.9, 54.0], [-1.9, 54.1], [-2.0, 54.0]]),
            "area: polygon is invalid: hole lies outside shell near (-2, 54)",
        ),
        (
            polygon([[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]], [[1, 1], [3, 1], [3, 1.5], [1, 1]]),
            "area: polygon is invalid: self-intersection near (2, 1)",
        ),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],
                    [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]],
                ],
            },
            "area: multipolygon parts overlap or share an edge near (1, 2); merge them",
        ),
        (
            {"type": "MultiPolygon", "coordinates": [[SQUARE], [BOW_TIE]]},
            "area: polygon 1 ring 0 self-intersects near (-2.93, 54.89)",
        ),
        (
            polygon([[179, -16], [-179, -16], [-179, -17], [179, -17], [179, -16]]),
            "area: polygon spans 358 degrees of longitude; crossing the antimeridian is not supported",
        ),
        (polygon(EUROPE), "area: area of 9,678,848 km² is over the limit of 250,000 km²"),
        (
            {"type": "Feature", "geometry": polygon(BOW_TIE)},
            "area: polygon ring 0 self-intersects near (-2.93, 54.89)",
        ),
    ],
)
def test_parse_area_rejects(obj, message):
    with pytest.raises(GeometryError) as caught:
        parse_area(obj)
    assert str(caught.value) == message


def test_geometry_error_is_a_value_error():
    assert issubclass(GeometryError, ValueError)


def test_parse_area_limit_is_configurable():
    wyoming_sized = polygon([[-111.05, 41], [-104.05, 41], [-104.05, 45], [-111.05, 45], [-111.05, 41]])
    with pytest.raises(GeometryError, match=r"area of 253,466 km² is over the limit of 250,000 km²"):
        parse_area(wyoming_sized)
    assert isinstance(parse_area(wyoming_sized, max_area_km2=300_000), Polygon)
    with pytest.raises(GeometryError, match=r"^flood_zone: area of 4 km² is over the limit of 3 km²$"):
        parse_area(polygon(SQUARE), field="flood_zone", max_area_km2=3)


def test_parse_area_accepts_a_point():
    assert parse_area(point(-2.93, 54.89)).equals(Point(-2.93, 54.89))


def test_parse_area_rejects_a_bad_point_under_its_field():
    with pytest.raises(GeometryError, match=r"^area: latitude 95 is out of range \[-90, 90\]$"):
        parse_area(point(0, 95))


@pytest.mark.parametrize("ring", [SQUARE, SQUARE[::-1]], ids=["counter-clockwise", "clockwise"])
def test_parse_area_accepts_a_polygon_either_way_round(ring):
    parsed = parse_area(polygon(ring))
    assert isinstance(parsed, Polygon)
    assert parsed.equals(Polygon(SQUARE))


def test_parse_area_keeps_holes():
    parsed = parse_area(polygon(SQUARE, HOLE))
    assert isinstance(parsed, Polygon)
    assert len(parsed.interiors) == 1
    assert not parsed.contains(Point(-2.935, 54.89))
    assert parsed.contains(Point(-2.945, 54.885))


def test_parse_area_accepts_a_multipolygon_of_parts_touching_at_a_point():
    parsed = parse_area({"type": "MultiPolygon", "coordinates": [[SQUARE], [EAST]]})
    assert isinstance(parsed, MultiPolygon)
    assert len(parsed.geoms) == 2


def test_parse_area_unwraps_a_feature():
    feature = {"type": "Feature", "properties": {"name": "Carlisle"}, "geometry": polygon(SQUARE)}
    assert parse_area(feature).equals(Polygon(SQUARE))
    assert parse_area({"type": "Feature", "geometry": point(-2.93, 54.89)}).equals(Point(-2.93, 54.89))


def test_parse_area_drops_altitude():
    parsed = parse_area(polygon([[x, y, 50] for x, y in SQUARE]))
    assert not parsed.has_z


def test_to_geojson_point():
    assert to_geojson(Point(-2.93, 54.89)) == {"type": "Point", "coordinates": [-2.93, 54.89]}


def test_to_geojson_winds_exteriors_counter_clockwise_and_holes_clockwise():
    clockwise_with_ccw_hole = Polygon(SQUARE[::-1], [HOLE])
    assert not clockwise_with_ccw_hole.exterior.is_ccw
    assert clockwise_with_ccw_hole.interiors[0].is_ccw

    rings = to_geojson(clockwise_with_ccw_hole)["coordinates"]

    assert Polygon(rings[0]).exterior.is_ccw
    assert not Polygon(rings[1]).exterior.is_ccw
    assert sorted(map(tuple, rings[0])) == sorted(map(tuple, SQUARE))


def test_to_geojson_multipolygon_winds_every_part():
    geojson = to_geojson(MultiPolygon([Polygon(SQUARE[::-1]), Polygon(EAST[::-1])]))
    assert geojson["type"] == "MultiPolygon"
    assert all(Polygon(part[0]).exterior.is_ccw for part in geojson["coordinates"])


@pytest.mark.parametrize(
    "obj",
    [
        point(-2.93, 54.89),
        polygon(SQUARE, HOLE),
        {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [EAST]]},
    ],
    ids=["point", "polygon", "multipolygon"],
)
def test_geojson_round_trips(obj):
    parsed = parse_area(obj)
    again = parse_area(to_geojson(parsed))
    assert again.equals(parsed)
    assert to_geojson(again) == to_geojson(parsed)


def test_to_ewkt_keeps_full_precision():
    assert to_ewkt(Point(-2.9381234567891, 54.8951)) == "SRID=4326;POINT (-2.9381234567891 54.8951)"
    assert to_ewkt(Polygon(SQUARE)) == (
        "SRID=4326;POLYGON ((-2.95 54.88, -2.92 54.88, -2.92 54.9, -2.95 54.9, -2.95 54.88))"
    )


def test_authalic_radius():
    assert abs(AUTHALIC_RADIUS_KM - 6371.0072) < 1e-4


@pytest.mark.parametrize(
    ("ring", "expected_km2"),
    [
        # Expected values: GeographicLib's geodesic polygon area on WGS84, as PostGIS ST_Area(geography)
        # computes it. The 1x1 degree box at the equator is 12,309 km² on the ellipsoid (the sphere: 12,364).
        ([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], 12308.778361469453),
        ([(-3, 54), (-2, 54), (-2, 55), (-3, 55), (-3, 54)], 7211.492417458862),
        ([(-3.6, 54.2), (-2.2, 54.1), (-2.3, 55.2), (-3.3, 54.9), (-3.6, 54.2)], 7703.632734915367),
        ([(140, -40), (150, -38), (149, -30), (141, -32), (140, -40)], 728360.1488513672),
        (
            [(-0.1276, 51.5072), (-0.1266, 51.5072), (-0.1266, 51.5079), (-0.1276, 51.5072)],
            0.0027036079095602034,
        ),
        # One eighth of the ellipsoid: its edges (equator, two meridians) are geodesics, so this is exact.
        ([(0, 0), (90, 0), (0, 90), (0, 0)], 63758202.715511054),
    ],
)
def test_geodesic_area_matches_geographiclib(ring, expected_km2):
    assert geodesic_area_km2(Polygon(ring)) == pytest.approx(expected_km2, rel=1e-4)
    assert geodesic_area_km2(Polygon(ring[::-1])) == pytest.approx(expected_km2, rel=1e-4)


def test_geodesic_area_of_europe_is_within_a_fraction_of_a_percent():
    assert geodesic_area_km2(Polygon(EUROPE)) == pytest.approx(9676945.42392196, rel=5e-4)


def test_geodesic_area_subtracts_holes_and_adds_parts():
    outer = Polygon([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)])
    inner = Polygon([(1, 1), (2, 1), (2, 2), (1, 2), (1, 1)])
    with_hole = Polygon(outer.exterior.coords, [inner.exterior.coords])
    assert geodesic_area_km2(with_hole) == pytest.approx(196869.59907080533 - 12305.128751042905, rel=1e-4)
    assert geodesic_area_km2(MultiPolygon([with_hole, inner])) == pytest.approx(196869.59907080533, rel=1e-4)
    assert geodesic_area_km2(Point(0, 0)) == 0
