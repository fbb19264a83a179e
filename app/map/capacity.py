"""Volunteer capacity per grid cell and skill: the snapshot, its refresh, and its GeoJSON and tiles.

Grid: British National Grid (EPSG:27700) squares of 1, 5 and 25 km. A home's square is plain
arithmetic on its projected coordinates, so a million homes are counted inside PostgreSQL in one
statement, with no extension (H3 would need h3-pg or a pass over every row in Python); coarser
squares nest exactly in finer ones, so they are sums of them; the squares are the OS grid squares
UK planners already use; and BNG squares are near enough equal in area across the UK (Web Mercator
ones are not), so counts compare fairly between Cornwall and Shetland.

Privacy: cells with fewer than `MIN_CELL_COUNT` people are never stored, so never shown to anyone.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal, select, text
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.map.geojson import features_array, json_object
from app.map.models import CapacityCell, CapacityRefresh
from app.map.scope import MERCATOR, Scope, area_geom
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import check_skill_codes, today_uk

MIN_CELL_COUNT = 5
CELL_SIZES_KM = (1, 5, 25)
ANY_SKILL = "*"
TILE_EXTENT = 4096
KEEP_REFRESHES = 20
_LOCK = 7_302_001  # advisory lock key: one snapshot rebuild at a time

_REFRESH = text(
    """
    INSERT INTO capacity_cells (skill, cell_km, x, y, volunteers, geom)
    WITH homes AS MATERIALIZED (
        SELECT v.id, floor(ST_X(p) / 1000)::int AS x, floor(ST_Y(p) / 1000)::int AS y
        FROM volunteers v
        CROSS JOIN LATERAL (SELECT ST_Transform(v.location::geometry, 27700) AS p) AS projected
        WHERE v.status = 'active' AND v.location IS NOT NULL
    ),
    qualified AS (
        SELECT DISTINCT c.volunteer_id, c.skill_code
        FROM credentials c
        WHERE c.expires_on IS NULL OR c.expires_on >= :today
    ),
    km1 AS (
        SELECT CAST(:any AS varchar) AS skill, x, y, count(*) AS n FROM homes GROUP BY x, y
        UNION ALL
        SELECT q.skill_code, h.x, h.y, count(*)
        FROM homes h JOIN qualified q ON q.volunteer_id = h.id
        GROUP BY q.skill_code, h.x, h.y
    ),
    cells AS (
        SELECT k.skill, s.km,
               floor(k.x::float8 / s.km)::int AS x, floor(k.y::float8 / s.km)::int AS y,
               sum(k.n)::int AS n
        FROM km1 k CROSS JOIN unnest(CAST(:sizes AS int[])) AS s(km)
        GROUP BY k.skill, s.km, 3, 4
    )
    SELECT skill, km, x, y, n,
           ST_Transform(ST_MakeEnvelope(x * km * 1000.0, y * km * 1000.0,
                                        (x + 1) * km * 1000.0, (y + 1) * km * 1000.0, 27700), 3857)
    FROM cells
    WHERE n >= :min_count
    """
)


@dataclass(frozen=True)
class Snapshot:
    """The snapshot a response was read from: its id versions ETags, its time is Last-Modified."""

    id: int
    refreshed_at: datetime


def refresh_capacity(session: Session) -> CapacityRefresh:
    """Recount every active volunteer into the snapshot (readers see the old one until commit)."""
    started = time.monotonic()
    session.execute(select(func.pg_advisory_xact_lock(_LOCK)))
    session.execute(delete(CapacityCell).execution_options(synchronize_session=False))
    session.execute(
        _REFRESH,
        {"today": today_uk(), "any": ANY_SKILL, "sizes": list(CELL_SIZES_KM), "min_count": MIN_CELL_COUNT},
    )
    people = session.scalar(
        select(func.count())
        .select_from(Volunteer)
        .where(Volunteer.status == VolunteerStatus.active, Volunteer.location.is_not(None))
    )
    cells = session.scalar(select(func.count()).select_from(CapacityCell))
    refresh = CapacityRefresh(
        volunteers=people or 0, cells=cells or 0, took_ms=int((time.monotonic() - started) * 1000)
    )
    session.add(refresh)
    session.flush()
    old = select(CapacityRefresh.id).order_by(CapacityRefresh.id.desc()).offset(KEEP_REFRESHES)
    session.execute(
        delete(CapacityRefresh)
        .where(CapacityRefresh.id.in_(old))
        .execution_options(synchronize_session=False)
    )
    # The whole table was replaced: fresh statistics keep the planner on the right index.
    session.execute(text("ANALYZE capacity_cells"))
    return refresh


def current_snapshot(session: Session) -> Snapshot:
    """The newest snapshot, built now if there has never been one (a new database, a test)."""
    latest = select(CapacityRefresh.id, CapacityRefresh.refreshed_at).order_by(CapacityRefresh.id.desc())
    row = session.execute(latest.limit(1)).first()
    if row is None:
        session.execute(select(func.pg_advisory_xact_lock(_LOCK)))
        row = session.execute(latest.limit(1)).first()
        if row is None:
            refresh = refresh_capacity(session)
            return Snapshot(refresh.id, refresh.refreshed_at)
    return Snapshot(row[0], row[1])


def check_skill(session: Session, skill: str | None) -> str:
    """The skill to count ('*' for anyone), refusing codes not in the catalogue."""
    if skill is None or skill == ANY_SKILL:
        return ANY_SKILL
    check_skill_codes(session, [skill])
    return skill


def check_cell_km(cell_km: int) -> int:
    """A cell size the snapshot holds, or a clear error listing them."""
    if cell_km not in CELL_SIZES_KM:
        raise InvalidInput(f"cell_km must be one of {', '.join(map(str, CELL_SIZES_KM))}")
    return cell_km


def cell_km_for_zoom(zoom: int) -> int:
    """Cell size for a tile zoom: each cell several pixels wide, a few thousand cells per tile at most."""
    if zoom <= 6:
        return 25
    if zoom <= 9:
        return 5
    return 1


def capacity_features(session: Session, *, scope: Scope, skill: str, cell_km: int) -> str:
    """The cells of the scope's area (or everywhere) as a GeoJSON features array, built by PostgreSQL."""
    where = [CapacityCell.skill == skill, CapacityCell.cell_km == cell_km]
    boundary = area_geom(scope, MERCATOR)
    if boundary is not None:
        where.append(func.ST_Intersects(CapacityCell.geom, boundary))
    rows = select(
        _cell_id().label("id"),
        func.ST_Transform(CapacityCell.geom, 4326).label("geom"),
        json_object(
            cell=_cell_id(),
            skill=CapacityCell.skill,
            cell_km=CapacityCell.cell_km,
            volunteers=CapacityCell.volunteers,
        ).label("properties"),
    ).where(*where)
    return features_array(session, rows)


def capacity_tile(session: Session, *, scope: Scope, skill: str, z: int, x: int, y: int) -> bytes:
    """One Mapbox Vector Tile (layer `capacity`) of the cells in tile z/x/y, clipped to the scope's area."""
    envelope = tile_envelope(z, x, y)
    where = [
        CapacityCell.skill == skill,
        CapacityCell.cell_km == cell_km_for_zoom(z),
        CapacityCell.geom.intersects(envelope),  # the bounding-box operator &&, served by the GIST index
    ]
    boundary = area_geom(scope, MERCATOR)
    if boundary is not None:
        where.append(func.ST_Intersects(CapacityCell.geom, boundary))
    rows = (
        select(
            func.ST_AsMVTGeom(CapacityCell.geom, envelope, TILE_EXTENT, 64, True).label("geom"),
            _cell_id().label("cell"),
            CapacityCell.cell_km,
            CapacityCell.volunteers,
        )
        .where(*where)
        .subquery("cells")
    )
    tile = session.scalar(
        select(func.ST_AsMVT(rows.table_valued(), literal("capacity"), TILE_EXTENT, literal("geom")))
    )
    return bytes(tile or b"")


def tile_envelope(z: int, x: int, y: int) -> ColumnElement[Any]:
    """The Web Mercator envelope of tile z/x/y, as a SQL expression."""
    return func.ST_TileEnvelope(z, x, y)


def _cell_id() -> ColumnElement[str]:
    """A cell's stable name, e.g. '5km:71:111' (size, then BNG grid indexes)."""
    return func.concat(CapacityCell.cell_km, "km:", CapacityCell.x, ":", CapacityCell.y)
