"""GeoJSON in and out: strict checks on user-drawn points and areas, with messages that say where."""

import math
import re
from itertools import pairwise
from typing import Any, assert_never

from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from geo.distance import WGS84_A, WGS84_F
from geo.errors import GeometryError

Area = Point | Polygon | MultiPolygon
Position = tuple[float, float]
Ring = list[Position]

_AREA_TYPES = ("Point", "Polygon", "MultiPolygon")
_VALIDITY = re.compile(r"^(?P<reason>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")
_RING_PROBLEMS = {
    "Self-intersection": "self-intersects",
    "Ring Self-intersection": "self-intersects",
    "Too few points in geometry component": "has fewer than 3 distinct positions",
}

# Authalic sphere: mapping latitudes onto it preserves area, so spherical excess gives ellipsoidal area.
_E2 = WGS84_F * (2 - WGS84_F)
_E = math.sqrt(_E2)
_QP = 1 - (1 - _E2) / (2 * _E) * math.log((1 - _E) / (1 + _E))
AUTHALIC_RADIUS_KM = WGS84_A * math.sqrt(_QP / 2) / 1000
# Every map answer carries each incident's outline, so one huge outline makes every answer huge.
# 10,000 positions draw a county boundary to about 50 m.
MAX_VERTICES = 10_000
# Larger than the UK (243,000 km²): an area beyond it is a mistake in degrees or units.
MAX_AREA_KM2 = 250_000


def parse_point(obj: Any, *, field: str = "location") -> Point:
    """Turn a GeoJSON Point into a shapely Point, refusing anything PostGIS would misread."""
    geometry = _object(obj, field)
    if geometry.get("type") != "Point":
        raise GeometryError(f"{field}: type must be 'Point', got {_show(geometry.get('type'))}")
    return Point(_point_position(geometry, field))


def parse_area(
    obj: Any, *, field: str = "area", max_area_km2: float = MAX_AREA_KM2, max_vertices: int = MAX_VERTICES
) -> Area:
    """Turn a GeoJSON Point, Polygon or MultiPolygon (or a Feature of one) into a valid shapely geometry.

    Size is checked before anything else is, by counting positions without reading them, so an
    outline of a million positions costs no more to refuse than one of ten thousand.
    """
    geometry = _object(obj, field)
    if geometry.get("type") == "Feature":
        if geometry.get("geometry") is None:
            raise GeometryError(f"{field}: feature has no geometry")
        geometry = _object(geometry["geometry"], f"{field}: feature geometry")
    kind = geometry.get("type")
    if kind == "Point":
        return Point(_point_position(geometry, field))
    if kind == "Polygon":
        rings = _coordinates(geometry, field, "polygon")
        _check_size(_count_positions([rings]), field, max_vertices)
        shape: Polygon | MultiPolygon = _polygon(rings, f"{field}: polygon")
    elif kind == "MultiPolygon":
        parts = _coordinates(geometry, field, "multipolygon")
        _check_size(_count_positions(parts), field, max_vertices)
        shape = MultiPolygon([_polygon(part, f"{field}: polygon {i}") for i, part in enumerate(parts)])
        if not shape.is_valid:
            _, near = _validity(shape)
            raise GeometryError(f"{field}: multipolygon parts overlap or share an edge{near}; merge them")
    else:
        allowed = ", ".join(repr(t) for t in _AREA_TYPES)
        raise GeometryError(f"{field}: type must be {allowed} or a 'Feature' of one, got {_show(kind)}")
    area = geodesic_area_km2(shape)
    if area > max_area_km2:
        raise GeometryError(f"{field}: area of {area:,.0f} km² is over the limit of {max_area_km2:,.0f} km²")
    return shape


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """RFC 7946 GeoJSON (lon/lat, exterior rings counter-clockwise) for API responses and maps."""
    match geom:
        case Point():
            return {"type": "Point", "coordinates": [geom.x, geom.y]}
        case Polygon():
            return {"type": "Polygon", "coordinates": _polygon_coordinates(geom)}
        case MultiPolygon():
            return {"type": "MultiPolygon", "coordinates": [_polygon_coordinates(p) for p in geom.geoms]}
        case _:
            raise GeometryError(f"cannot write a {geom.geom_type} as a nvr GeoJSON area")


def to_ewkt(geom: Area) -> str:
    """EWKT with SRID 4326 at full precision, the text form PostGIS geography accepts."""
    return f"SRID=4326;{geom.wkt}"


def geodesic_area_km2(geom: Area) -> float:
    """Area on the WGS84 ellipsoid (via the authalic sphere), because degrees squared mean nothing."""
    match geom:
        case Point():
            return 0.0
        case Polygon():
            holes = sum(_ring_area_km2(hole.coords) for hole in geom.interiors)
            return _ring_area_km2(geom.exterior.coords) - holes
        case MultiPolygon():
            return sum(geodesic_area_km2(polygon) for polygon in geom.geoms)
        case _:
            assert_never(geom)


def _ring_area_km2(coords: Any) -> float:
    """Spherical excess of a ring on the authalic sphere, summed edge by edge against the equator."""
    points = [(math.radians(x), _half_tan_authalic(y)) for x, y, *_ in coords]
    excess = 0.0
    for (lam1, t1), (lam2, t2) in pairwise(points):
        excess += 2 * math.atan2(math.tan((lam2 - lam1) / 2) * (t1 + t2), 1 + t1 * t2)
    return abs(excess) * AUTHALIC_RADIUS_KM**2


def _half_tan_authalic(lat_deg: float) -> float:
    """tan(beta/2) of the authalic latitude beta, the only form the excess formula needs."""
    sin_phi = math.sin(math.radians(lat_deg))
    q = (1 - _E2) * (
        sin_phi / (1 - _E2 * sin_phi * sin_phi) - math.log((1 - _E * sin_phi) / (1 + _E * sin_phi)) / (2 * _E)
    )
    beta = math.asin(max(-1.0, min(1.0, q / _QP)))
    return math.tan(beta / 2)


def _object(obj: Any, field: str) -> dict[str, Any]:
    """The GeoJSON object as a dict, or an error naming what came instead."""
    if not isinstance(obj, dict):
        raise GeometryError(f"{field}: expected a GeoJSON object, got {_json_type(obj)}")
    return obj


def _coordinates(geometry: dict[str, Any], field: str, kind: str) -> list[Any]:
    """The non-empty coordinates array of a polygonal geometry."""
    coordinates = geometry.get("coordinates")
    if coordinates is None or coordinates == []:
        raise GeometryError(f"{field}: {kind} is empty")
    if not isinstance(coordinates, list):
        raise GeometryError(f"{field}: {kind} coordinates must be an array, got {_json_type(coordinates)}")
    return coordinates


def _count_positions(polygons: list[Any]) -> int:
    """Positions in a list of polygons' rings, counted by length only (shapes are checked later)."""
    return sum(
        len(ring) for rings in polygons if isinstance(rings, list) for ring in rings if isinstance(ring, list)
    )


def _check_size(positions: int, field: str, max_vertices: int) -> None:
    """Refuse an outline with more positions than the limit, saying how to fix it."""
    if positions > max_vertices:
        raise GeometryError(
            f"{field}: {positions:,} positions is over the limit of {max_vertices:,}; simplify the outline"
        )


def _point_position(geometry: dict[str, Any], field: str) -> Position:
    """The position of a Point, with an empty point reported as such."""
    coordinates = geometry.get("coordinates")
    if coordinates is None or coordinates == []:
        raise GeometryError(f"{field}: point is empty")
    return _position(coordinates, field)


def _position(raw: Any, where: str) -> Position:
    """A [lon, lat] or [lon, lat, z] position as finite, in-range (lon, lat); z is dropped."""
    if not isinstance(raw, list):
        raise GeometryError(f"{where}: position must be an array [lon, lat], got {_json_type(raw)}")
    if len(raw) not in (2, 3):
        raise GeometryError(f"{where}: position must have 2 or 3 numbers [lon, lat], got {len(raw)}")
    lon = _coordinate(raw[0], "longitude", 180, where)
    lat = _coordinate(raw[1], "latitude", 90, where)
    if len(raw) == 3:
        _coordinate(raw[2], "altitude", math.inf, where)
    return lon, lat


def _coordinate(raw: Any, name: str, limit: float, where: str) -> float:
    """One finite number within [-limit, limit]."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise GeometryError(f"{where}: {name} must be a number, got {_show(raw)}")
    value = float(raw)
    if not math.isfinite(value):
        raise GeometryError(f"{where}: {name} {value} is not a finite number")
    if abs(value) > limit:
        raise GeometryError(f"{where}: {name} {_num(value)} is out of range [{-limit:g}, {limit:g}]")
    return value


def _polygon(raw: Any, where: str) -> Polygon:
    """A valid polygon from GeoJSON rings, checked ring by ring so errors can point at one."""
    if not isinstance(raw, list):
        raise GeometryError(f"{where} must be an array of rings, got {_json_type(raw)}")
    if not raw:
        raise GeometryError(f"{where} is empty")
    rings = [_ring(ring, f"{where} ring {i}") for i, ring in enumerate(raw)]
    lons = [lon for lon, _ in rings[0]]
    span = max(lons) - min(lons)
    if span > 180:
        raise GeometryError(
            f"{where} spans {_num(span)} degrees of longitude; crossing the antimeridian is not supported"
        )
    for i, ring in enumerate(rings):
        alone = Polygon(ring)
        if not alone.is_valid:
            reason, near = _validity(alone)
            problem = _RING_PROBLEMS.get(reason, f"is invalid: {reason.lower()}")
            raise GeometryError(f"{where} ring {i} {problem}{near}")
    polygon = Polygon(rings[0], rings[1:])
    if not polygon.is_valid:
        reason, near = _validity(polygon)
        raise GeometryError(f"{where} is invalid: {reason.lower()}{near}")
    return polygon


def _ring(raw: Any, where: str) -> Ring:
    """A closed ring of at least four positions, as GeoJSON requires."""
    if not isinstance(raw, list):
        raise GeometryError(f"{where} must be an array of positions, got {_json_type(raw)}")
    ring = [_position(position, f"{where} position {i}") for i, position in enumerate(raw)]
    if len(ring) < 4:
        raise GeometryError(f"{where} has {len(ring)} positions; a ring needs at least 4 (first = last)")
    if ring[0] != ring[-1]:
        raise GeometryError(
            f"{where} is not closed: it starts at {_at(ring[0])} but ends at {_at(ring[-1])}; "
            "repeat the first position at the end"
        )
    return ring


def _validity(geom: Polygon | MultiPolygon) -> tuple[str, str]:
    """GEOS's reason a geometry is invalid and, when it gives one, ' near (x, y)'."""
    explanation = explain_validity(geom)
    found = _VALIDITY.match(explanation)
    if found is None:
        return explanation, ""
    return found["reason"], f" near {_at((float(found['x']), float(found['y'])))}"


def _polygon_coordinates(polygon: Polygon) -> list[list[list[float]]]:
    """GeoJSON rings of a polygon, exterior counter-clockwise and holes clockwise (RFC 7946)."""
    oriented = orient(polygon, sign=1.0)
    rings = [oriented.exterior, *oriented.interiors]
    return [[[x, y] for x, y, *_ in ring.coords] for ring in rings]


def _at(position: Position) -> str:
    """A position as '(lon, lat)', rounded to about a metre."""
    return f"({_num(round(position[0], 5))}, {_num(round(position[1], 5))})"


def _num(value: float) -> str:
    """A number without trailing zeros or float noise."""
    return format(value + 0.0, ".15g")


def _show(value: Any) -> str:
    """A short rendering of an unexpected value for a message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, the vocabulary API clients know."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
