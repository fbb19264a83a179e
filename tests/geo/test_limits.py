"""Geometry size limits: a huge outline is refused by counting, before any position is read."""

import math
import time
from typing import Any

import pytest

from geo.errors import GeometryError
from geo.geojson import MAX_VERTICES, parse_area


def circle(
    n: int, *, lon: float = -2.935, lat: float = 54.8925, radius_deg: float = 0.05
) -> list[list[float]]:
    """A closed ring of n + 1 positions around (lon, lat)."""
    ring = [
        [lon + radius_deg * math.cos(2 * math.pi * i / n), lat + radius_deg * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    return [*ring, ring[0]]


def polygon(n: int) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [circle(n)]}


def test_an_outline_at_the_limit_is_accepted() -> None:
    shape = parse_area(polygon(MAX_VERTICES - 1))
    assert len(shape.exterior.coords) == MAX_VERTICES  # type: ignore[union-attr]


def test_one_position_over_the_limit_is_refused_with_the_count() -> None:
    with pytest.raises(GeometryError, match=r"area: 10,001 positions is over the limit of 10,000; simplify"):
        parse_area(polygon(MAX_VERTICES))


def test_a_million_positions_are_refused_cheaply() -> None:
    huge = {"type": "Polygon", "coordinates": [[[0.0, 0.0]] * 1_000_000]}
    started = time.perf_counter()
    with pytest.raises(GeometryError, match="1,000,000 positions"):
        parse_area(huge)
    assert time.perf_counter() - started < 0.05  # counted, not read: no position is validated


def test_multipolygon_parts_count_together() -> None:
    part = [circle(6000)]
    with pytest.raises(GeometryError, match="12,002 positions"):
        parse_area({"type": "MultiPolygon", "coordinates": [part, part]})


def test_holes_count_too() -> None:
    with pytest.raises(GeometryError, match="10,002 positions"):
        parse_area({"type": "Polygon", "coordinates": [circle(9000), circle(1000, radius_deg=0.01)]})


def test_a_feature_is_limited_like_its_geometry() -> None:
    with pytest.raises(GeometryError, match="over the limit"):
        parse_area({"type": "Feature", "geometry": polygon(20_000), "properties": {}})


def test_the_limit_can_be_set_by_the_caller() -> None:
    with pytest.raises(GeometryError, match="over the limit of 10;"):
        parse_area(polygon(20), max_vertices=10)


def test_area_over_the_limit_is_refused() -> None:
    with pytest.raises(GeometryError, match="km² is over the limit of 100 km²"):
        parse_area({"type": "Polygon", "coordinates": [circle(50, radius_deg=1.0)]}, max_area_km2=100)
