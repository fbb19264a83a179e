"""GeoJSON for bulk layers, assembled by PostgreSQL so thousands of features never become Python objects.

Small layers (incidents, areas) are built in Python with `geo.geojson`; layers that can hold thousands
of cells or people go through here: a select of (id, geom, properties) in, RFC 7946 text out.
"""

import json
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    Text,
    TextualSelect,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

MEDIA_TYPE = "application/geo+json"
PRECISION = 6  # decimal places of degrees: about 10 cm


def features_array(session: Session, rows: Select[Any] | TextualSelect) -> str:
    """A JSON array of Features from rows of (id, geom in WGS84, properties), exterior rings CCW."""
    f = rows.subquery("f")
    geometry = cast(func.ST_AsGeoJSON(func.ST_ForcePolygonCCW(f.c.geom), PRECISION), JSON)
    feature = json_object(type=literal("Feature"), id=f.c.id, geometry=geometry, properties=f.c.properties)
    features = func.coalesce(func.json_agg(aggregate_order_by(feature, f.c.id)), literal_column("'[]'::json"))
    return session.scalar(select(cast(features, Text))) or "[]"


def json_object(**pairs: Any) -> ColumnElement[Any]:
    """json_build_object over keyword pairs, keys bound as text (its arguments are untyped)."""
    return func.json_build_object(*(item for key, value in pairs.items() for item in (literal(key), value)))


def collection(features: str, **members: Any) -> str:
    """A FeatureCollection around a features array, with foreign members (RFC 7946, 6.1) such as `as_of`."""
    head = json.dumps({"type": "FeatureCollection", **members}, default=str)
    return f'{head[:-1]}, "features": {features}}}'
