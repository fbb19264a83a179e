"""Loading resilience areas from GeoJSON and looking them up; services flush, callers commit."""

import json
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2 import Geography, Geometry, WKBElement
from sqlalchemy import Boolean, Float, bindparam, cast, func, literal_column, select, text, type_coerce
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.area.models import Area
from app.audit.service import record
from app.errors import InvalidInput, NotFound
from geo.errors import GeometryError
from geo.features import FeatureCollection, property_text


@dataclass(frozen=True)
class Repair:
    """An invalid boundary that was repaired with ST_MakeValid, and what was wrong with it."""

    code: str
    name: str
    reason: str


@dataclass
class ImportReport:
    """What an import did."""

    srid: int
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    repaired: list[Repair] = field(default_factory=list)


@dataclass(frozen=True)
class AreaSummary:
    """An area without its boundary: what lists and the map's area picker need."""

    code: str
    name: str
    bbox: tuple[float, float, float, float]


def import_areas(
    session: Session, *, collection: FeatureCollection, code_field: str, name_field: str, actor: str
) -> ImportReport:
    """Insert or update one area per feature, transformed to WGS84 and repaired when invalid."""
    known = text("SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = :srid)")
    if not session.scalar(known, {"srid": collection.srid}):
        raise GeometryError(f"crs: EPSG:{collection.srid} is not a coordinate system PostGIS knows")
    named = [(f, property_text(f, code_field), property_text(f, name_field)) for f in collection.features]
    codes = [code for _, code, _ in named]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise InvalidInput(f"area codes appear more than once in the file: {', '.join(duplicates)}")
    report = ImportReport(srid=collection.srid)
    for feature, code, name in named:
        source = func.ST_Force2D(
            func.ST_SetSRID(
                func.ST_GeomFromGeoJSON(bindparam("geojson", json.dumps(feature.geometry), unique=True)),
                collection.srid,
            )
        )
        where = f"feature {feature.index} ({code})"
        try:
            with session.begin_nested():
                geom, reason = _repaired(session, func.ST_Transform(source, 4326), where)
        except DBAPIError as exc:
            detail = str(exc.orig).splitlines()[0] if exc.orig else "unreadable geometry"
            raise GeometryError(f"{where}: PostGIS cannot read the geometry: {detail}") from exc
        if reason is not None:
            report.repaired.append(Repair(code=code, name=name, reason=reason))
        new = _upsert(session, code=code, name=name, geom=geom)
        (report.inserted if new else report.updated).append(code)
    record(
        session,
        actor=actor,
        action="areas.imported",
        entity_type="area",
        entity_id=None,
        detail={
            "srid": report.srid,
            "inserted": report.inserted,
            "updated": report.updated,
            "repaired": [r.code for r in report.repaired],
        },
    )
    session.flush()
    return report


def area_around(
    session: Session, *, code: str, name: str, lon: float, lat: float, radius_km: float, actor: str
) -> Area:
    """A round area of `radius_km` around a point: for demos and drills without an official boundary."""
    centre = cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)
    circle = cast(func.ST_Buffer(centre, radius_km * 1000.0), Geometry)
    geom, _ = _repaired(session, circle, f"area {code}")
    _upsert(session, code=code, name=name, geom=geom)
    record(
        session,
        actor=actor,
        action="areas.created",
        entity_type="area",
        entity_id=None,
        detail={"code": code, "lon": lon, "lat": lat, "radius_km": radius_km},
    )
    return get_area(session, code=code)


def get_area(session: Session, *, code: str) -> Area:
    """One area by code, or NotFound."""
    # populate_existing: an import in this session may have just rewritten the row behind the ORM's back.
    area = session.scalar(select(Area).where(Area.code == code).execution_options(populate_existing=True))
    if area is None:
        raise NotFound(f"area {code} does not exist")
    return area


def list_areas(session: Session, *, code: str | None = None) -> list[AreaSummary]:
    """Areas by code with their bounding boxes; only `code` when given."""
    box = func.Box2D(Area.geom)
    query = select(
        Area.code,
        Area.name,
        type_coerce(func.ST_XMin(box), Float),
        type_coerce(func.ST_YMin(box), Float),
        type_coerce(func.ST_XMax(box), Float),
        type_coerce(func.ST_YMax(box), Float),
    ).order_by(Area.code)
    if code is not None:
        query = query.where(Area.code == code)
    return [AreaSummary(c, n, (w, s, e, north)) for c, n, w, s, e, north in session.execute(query)]


def area_feature(session: Session, *, area: Area) -> dict[str, Any]:
    """An area as an RFC 7946 Feature (exterior rings counter-clockwise, ~10 cm precision)."""
    geometry = session.scalar(
        select(func.ST_AsGeoJSON(func.ST_ForcePolygonCCW(Area.geom), 6)).where(Area.id == area.id)
    )
    return {
        "type": "Feature",
        "id": area.code,
        "geometry": json.loads(geometry or "null"),
        "properties": {"code": area.code, "name": area.name},
    }


def _repaired(session: Session, geom: Any, where: str) -> tuple[WKBElement, str | None]:
    """A valid WGS84 MultiPolygon from `geom`, and why the original was invalid (None when it was valid)."""
    # OFFSET 0 keeps PostgreSQL from inlining the subquery and computing the transform three times.
    source = select(geom.label("g")).offset(0).subquery()
    fixed = func.ST_Multi(func.ST_CollectionExtract(func.ST_MakeValid(source.c.g), 3))
    row = session.execute(
        select(
            func.ST_IsValid(source.c.g),
            func.ST_IsValidReason(source.c.g),
            func.ST_IsEmpty(fixed),
            type_coerce(func.ST_XMin(fixed), Float),
            type_coerce(func.ST_YMin(fixed), Float),
            type_coerce(func.ST_XMax(fixed), Float),
            type_coerce(func.ST_YMax(fixed), Float),
            fixed.label("fixed"),
        )
    ).one()
    valid, reason, empty, west, south, east, north, repaired = row
    if empty:
        raise GeometryError(f"{where}: the boundary encloses no area, even after repair ({reason})")
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise GeometryError(
            f"{where}: coordinates ({west:.0f}, {south:.0f}) to ({east:.0f}, {north:.0f}) are not lon/lat; "
            "the file may be in a projected CRS it does not declare (pass its EPSG code)"
        )
    return repaired, None if valid else reason


def _upsert(session: Session, *, code: str, name: str, geom: WKBElement) -> bool:
    """Insert or update one area by code; True when it was new."""
    statement = insert(Area).values(code=code, name=name, geom=geom)
    statement = statement.on_conflict_do_update(
        index_elements=[Area.code],
        set_={"name": statement.excluded.name, "geom": statement.excluded.geom, "updated_at": func.now()},
    )
    # xmax is 0 on a row version this statement inserted, and set on one it updated.
    inserted = session.scalar(statement.returning(literal_column("xmax = 0", Boolean)))
    return bool(inserted)
