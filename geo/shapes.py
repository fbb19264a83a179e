"""Areas built from outlines drawn elsewhere (official warnings): geodesic circles, repaired and merged
polygons, and outlines simplified to the vertex limit every stored area keeps (geo.geojson.MAX_VERTICES).

Unlike `geo.geojson.parse_area`, which refuses a user's invalid drawing so they can fix it, these repair
what they are given: a warning's outline is what the issuer published, and refusing it would lose the
warning.
"""

from collections.abc import Sequence

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.distance import destination
from geo.errors import GeometryError
from geo.geojson import MAX_AREA_KM2, MAX_VERTICES, Position, geodesic_area_km2

# Official outlines are drawn finer than ours (the NWS's 212 polygons for one Alaskan zone have 93,000
# vertices); they are simplified to MAX_VERTICES, but reading more than this costs seconds of union.
MAX_SOURCE_VERTICES = 20 * MAX_VERTICES
CIRCLE_SEGMENTS = 72  # a 5-degree step: within 0.1% of the true area
_FIRST_TOLERANCE_DEG = 0.0001  # about 10 m, doubled until the outline fits


def circle(lon: float, lat: float, radius_km: float) -> Polygon:
    """The area within `radius_km` of a point along the ellipsoid (a geodesic buffer), as a polygon."""
    if not radius_km > 0:
        raise GeometryError(f"circle at ({lon}, {lat}): radius must be above 0 km, got {radius_km:g}")
    step = 360 / CIRCLE_SEGMENTS
    ring = [destination(lon, lat, i * step, radius_km) for i in range(CIRCLE_SEGMENTS)]
    return Polygon([*ring, ring[0]])


def merged_area(
    rings: Sequence[Sequence[Position]],
    circles: Sequence[Polygon],
    *,
    max_area_km2: float = MAX_AREA_KM2,
    max_vertices: int = MAX_VERTICES,
    max_source_vertices: int = MAX_SOURCE_VERTICES,
) -> MultiPolygon | None:
    """One valid MultiPolygon covering every ring (lon, lat) and circle, or None when given none.

    Self-intersecting rings are repaired (their polygonal parts kept), the union is refused when over
    `max_area_km2`, and simplified (topology kept) until it has at most `max_vertices` positions.
    """
    positions = sum(len(ring) for ring in rings)
    if positions > max_source_vertices:
        raise GeometryError(
            f"area: {positions:,} positions is over the limit of {max_source_vertices:,}; simplify it"
        )
    for ring in rings:
        lons = [lon for lon, _ in ring]
        if lons and max(lons) - min(lons) > 180:
            raise GeometryError("area: a polygon crosses the antimeridian, which is not supported")
    parts: list[BaseGeometry] = [
        _polygonal(shapely.make_valid(Polygon(ring))) for ring in dict.fromkeys(map(tuple, rings))
    ]
    parts += circles
    if not parts:
        return None
    union = _polygonal(shapely.union_all(parts))
    if union.is_empty:
        raise GeometryError("area: the outline encloses no area")
    area = geodesic_area_km2(union)
    if area > max_area_km2:
        raise GeometryError(f"area: area of {area:,.0f} km² is over the limit of {max_area_km2:,.0f} km²")
    return _fitted(union, max_vertices)


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    """The polygons of a geometry (a repair may add lines and points), as one MultiPolygon."""
    polygons: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
        elif part.geom_type == "GeometryCollection":
            polygons.extend(_polygonal(part).geoms)
    return MultiPolygon([p for p in polygons if not p.is_empty])


def _fitted(area: MultiPolygon, max_vertices: int) -> MultiPolygon:
    """`area` simplified with a growing tolerance until it has at most `max_vertices` positions."""
    tolerance = _FIRST_TOLERANCE_DEG
    fitted = area
    while shapely.get_num_coordinates(fitted) > max_vertices:
        fitted = _polygonal(shapely.make_valid(shapely.simplify(area, tolerance, preserve_topology=True)))
        tolerance *= 2
    return fitted
