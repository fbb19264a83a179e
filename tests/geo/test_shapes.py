"""Areas from warnings' outlines: geodesic circles, repairs, unions and the limits."""

import pytest
import shapely
from shapely.geometry import Point

from geo.distance import haversine_km
from geo.errors import GeometryError
from geo.geojson import geodesic_area_km2
from geo.shapes import circle, merged_area


def test_a_circle_is_a_geodesic_buffer() -> None:
    ring = circle(-2.93, 54.89, 25.0)
    distances = [haversine_km(-2.93, 54.89, lon, lat) for lon, lat in ring.exterior.coords]
    assert all(abs(d - 25.0) < 0.15 for d in distances)  # haversine is within 0.5% of the ellipsoid
    assert abs(geodesic_area_km2(ring) - 3.14159 * 25**2) / (3.14159 * 25**2) < 0.01
    with pytest.raises(GeometryError, match="radius must be above 0 km"):
        circle(0, 51, 0)


def test_a_bow_tie_is_repaired_and_parts_are_merged() -> None:
    bow_tie = [(-1.0, 53.0), (-0.9, 53.1), (-0.9, 53.0), (-1.0, 53.1), (-1.0, 53.0)]
    square = [(0.0, 51.0), (0.1, 51.0), (0.1, 51.1), (0.0, 51.1), (0.0, 51.0)]
    area = merged_area([bow_tie, square, square], [circle(0.05, 51.05, 1)])
    assert area is not None and area.is_valid and len(area.geoms) == 3
    assert area.covers(Point(-0.98, 53.05)) and area.covers(Point(0.05, 51.05))
    assert merged_area([], []) is None


def test_outlines_over_the_limits_are_refused_and_fine_ones_simplified() -> None:
    with pytest.raises(GeometryError, match="over the limit of 200,000"):
        merged_area([[(0.0, 0.0)] * 200_001], [])
    with pytest.raises(GeometryError, match="km² is over the limit"):
        merged_area([[(-10.0, 40.0), (10.0, 40.0), (10.0, 60.0), (-10.0, 60.0), (-10.0, 40.0)]], [])
    with pytest.raises(GeometryError, match="antimeridian"):
        merged_area([[(-179.0, 0.0), (179.0, 0.0), (179.0, 1.0), (-179.0, 0.0)]], [])
    fine = circle(-2.93, 54.89, 20.0)
    dense = shapely.segmentize(fine, 0.00005)
    assert shapely.get_num_coordinates(dense) > 10_000
    fitted = merged_area([list(dense.exterior.coords)], [], max_vertices=10_000)
    assert fitted is not None and shapely.get_num_coordinates(fitted) <= 10_000
    assert abs(geodesic_area_km2(fitted) - geodesic_area_km2(fine)) / geodesic_area_km2(fine) < 0.01
