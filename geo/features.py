"""Reading GeoJSON FeatureCollections from files made by GIS tools, including their declared CRS."""

import math
import re
from dataclasses import dataclass
from typing import Any

from geo.errors import GeometryError

WGS84 = 4326
POLYGONAL = ("Polygon", "MultiPolygon")

# The named-CRS member of GeoJSON 2008, which ogr2ogr and QGIS still write: lon/lat CRS84 spelled
# several ways, and EPSG codes as URNs, URLs or plain `EPSG:27700`.
_CRS84 = re.compile(
    r"^(urn:ogc:def:crs:ogc:(1\.3)?:crs84|https?://www\.opengis\.net/def/crs/ogc/1\.3/crs84)$"
)
_EPSG = re.compile(
    r"^(urn:ogc:def:crs:epsg:[\d.]*:|https?://www\.opengis\.net/def/crs/epsg/[\d.]+/|epsg:)(?P<code>\d+)$"
)


@dataclass(frozen=True)
class Feature:
    """One feature of a collection: where it was, its properties and its geometry as GeoJSON."""

    index: int
    properties: dict[str, Any]
    geometry: dict[str, Any]


@dataclass(frozen=True)
class FeatureCollection:
    """A collection's features and the EPSG code its coordinates are in."""

    srid: int
    features: list[Feature]


def declared_srid(collection: dict[str, Any]) -> int:
    """The EPSG code of a collection's `crs` member; 4326 (lon/lat, as RFC 7946 says) when absent.

    EPSG:4326 is read as lon/lat, the axis order every GeoJSON writer uses whatever the CRS says.
    """
    crs = collection.get("crs")
    if crs is None:
        return WGS84
    if not isinstance(crs, dict) or crs.get("type") != "name" or not isinstance(crs.get("properties"), dict):
        raise GeometryError('crs: only a named CRS is understood: {"type": "name", "properties": {...}}')
    name = crs["properties"].get("name")
    if not isinstance(name, str):
        raise GeometryError("crs: properties.name must be a string such as 'urn:ogc:def:crs:EPSG::27700'")
    key = name.strip().lower()
    if _CRS84.match(key):
        return WGS84
    found = _EPSG.match(key)
    if found is None:
        raise GeometryError(f"crs: cannot read {name!r}; name an EPSG code: 'urn:ogc:def:crs:EPSG::27700'")
    return int(found["code"])


def read_feature_collection(obj: Any, *, srid: int | None = None) -> FeatureCollection:
    """The polygonal features of a FeatureCollection, with the CRS it declares (or `srid` to override)."""
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection":
        raise GeometryError("the file must hold a GeoJSON FeatureCollection")
    raw = obj.get("features")
    if not isinstance(raw, list) or not raw:
        raise GeometryError("the FeatureCollection has no features")
    features = []
    for index, feature in enumerate(raw):
        where = f"feature {index}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise GeometryError(f"{where}: is not a GeoJSON Feature")
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in POLYGONAL:
            kind = geometry.get("type") if isinstance(geometry, dict) else None
            raise GeometryError(f"{where}: geometry must be a Polygon or MultiPolygon, got {kind!r}")
        if not geometry.get("coordinates"):
            raise GeometryError(f"{where}: geometry is empty")
        _check_positions(geometry["coordinates"], 3 if geometry["type"] == "Polygon" else 4, where)
        properties = feature.get("properties")
        features.append(Feature(index, properties if isinstance(properties, dict) else {}, geometry))
    return FeatureCollection(srid=srid if srid is not None else declared_srid(obj), features=features)


def _check_positions(value: Any, depth: int, where: str) -> None:
    """Arrays nested `depth` deep, ending in positions of 2 or 3 finite numbers (PostGIS reads junk as 0)."""
    if not isinstance(value, list):
        raise GeometryError(f"{where}: coordinates are not nested as the geometry type requires")
    if depth == 1:
        numbers = [
            v for v in value if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        ]
        if len(numbers) != len(value) or len(value) not in (2, 3):
            raise GeometryError(f"{where}: position {value!r} is not 2 or 3 numbers")
        return
    for item in value:
        _check_positions(item, depth - 1, where)


def property_text(feature: Feature, name: str) -> str:
    """A feature's property as trimmed text, or an error naming the feature and the properties it has."""
    value = feature.properties.get(name)
    if value is None or not str(value).strip():
        present = ", ".join(sorted(feature.properties)) or "none"
        raise GeometryError(f"feature {feature.index}: property {name!r} is missing (it has: {present})")
    return str(value).strip()
