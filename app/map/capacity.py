"""Volunteer capacity per grid cell and skill: the snapshot, its refresh, and its GeoJSON and tiles.

Grid: British National Grid (EPSG:27700) squares of 1, 5 and 25 km. A home's square is plain
arithmetic on its projected coordinates, so a million homes are counted inside PostgreSQL in one
statement, with no extension (H3 would need h3-pg or a pass over every row in Python); coarser
squares nest exactly in finer ones (each 5 km square holds 25 of 1 km, each 25 km square 25 of 5 km);
the squares are the OS grid squares UK planners already use; and BNG squares are near enough equal in
area across the UK (Web Mercator ones are not), so counts compare fairly between Cornwall and Shetland.

Privacy (k = `MIN_CELL_COUNT` = 5): no answer, and no combination of answers, may single out fewer
than five people. Hiding small squares is not enough on its own: a 5 km square of 9 beside its one
shown 1 km square of 5 tells that 4 people live in the other 24. So the published squares obey one
rule across levels: every published square's *residual* (its count minus its published sub-squares)
is 0 or at least five. Then every count anyone can see is a sum of residuals, and so is every
difference of counts over nested regions, so none singles out one to four people. The refresh gets
there top-down: a square is published only if it holds five or more and its parent is published (25 km
squares have no parent); then, where a parent's residual is 1 to 4, its smallest published sub-square
is withheld as well (making the residual at least 5 + 1), and with it everything inside it.
Coarse squares keep their true totals, so sparse country still shows at 5 and 25 km.

Coverage gaps (`gap_counts`) are counted in the same refresh from the published 1 km squares only:
a gaps answer is a sum of numbers the capacity layer already publishes, so no request can see past
the suppression. The snapshot is the same for every role: coordinators who need people see them
through incidents' call-ups, not through these layers.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal, select, text
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.map.geojson import features_array, json_object
from app.map.models import CapacityCell, CapacityRefresh, GapCount
from app.map.scope import MERCATOR, Scope, area_geom
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import check_skill_codes, today_uk

MIN_CELL_COUNT = 5
CELL_SIZES_KM = (1, 5, 25)
GAP_CELL_KM = (5, 25)  # squares the gaps layer is answered in (odd: see _GAPS)
GAP_WITHIN_KM = (5, 10, 25)  # the only distances gaps are counted at
ANY_SKILL = "*"
TILE_EXTENT = 4096
KEEP_REFRESHES = 20
_LOCK = 7_302_001  # advisory lock key: one snapshot rebuild at a time

# True counts of every square at every level, before suppression; `px, py` index the parent square.
_COUNT = text(
    """
    INSERT INTO capacity_counts (skill, km, x, y, n, px, py, shown)
    WITH homes AS MATERIALIZED (
        SELECT v.id, floor(ST_X(p) / 1000)::int AS x, floor(ST_Y(p) / 1000)::int AS y
        FROM volunteers v
        CROSS JOIN LATERAL (SELECT ST_Transform(v.location::geometry, 27700) AS p) AS projected
        WHERE v.status = 'active' AND v.location IS NOT NULL
    ),
    qualified AS (  -- what counts at selection (app/callout/selection.py): in date, and verified
        SELECT DISTINCT c.volunteer_id, c.skill_code  -- where the skill needs it, else not rejected
        FROM credentials c JOIN skills s ON s.code = c.skill_code
        WHERE (c.expires_on IS NULL OR c.expires_on >= :today)
          AND (c.status = 'verified' OR (c.status = 'pending' AND NOT s.needs_verification))
    ),
    km1 AS (
        SELECT CAST(:any AS varchar) AS skill, x, y, count(*) AS n FROM homes GROUP BY x, y
        UNION ALL
        SELECT q.skill_code, h.x, h.y, count(*)
        FROM homes h JOIN qualified q ON q.volunteer_id = h.id
        GROUP BY q.skill_code, h.x, h.y
    ),
    cells AS (
        SELECT k.skill, s.km, s.parent_km,
               floor(k.x::float8 / s.km)::int AS x, floor(k.y::float8 / s.km)::int AS y,
               sum(k.n)::int AS n
        FROM km1 k CROSS JOIN unnest(CAST(:sizes AS int[]), CAST(:parents AS int[])) AS s(km, parent_km)
        GROUP BY k.skill, s.km, s.parent_km, 4, 5
    )
    SELECT skill, km, x, y, n,
           floor(x::float8 * km / parent_km)::int, floor(y::float8 * km / parent_km)::int,
           n >= :min_count
    FROM cells
    """
)
# Withhold squares whose parent is withheld.
_CLOSE = text(
    """
    UPDATE capacity_counts c SET shown = false
    FROM capacity_counts p
    WHERE c.km = :km AND c.shown AND p.km = :parent_km AND p.skill = c.skill
      AND p.x = c.px AND p.y = c.py AND NOT p.shown
    """
)
# Where a published parent's residual is 1 to 4, withhold its smallest published sub-square too.
_COMPLEMENT = text(
    """
    WITH residual AS (
        SELECT p.skill, p.x, p.y
        FROM capacity_counts p
        JOIN capacity_counts c ON c.km = :km AND c.shown AND c.skill = p.skill AND c.px = p.x AND c.py = p.y
        WHERE p.km = :parent_km AND p.shown
        GROUP BY p.skill, p.x, p.y, p.n
        HAVING p.n - sum(c.n) BETWEEN 1 AND :min_count - 1
    ),
    withheld AS (
        SELECT DISTINCT ON (c.skill, c.px, c.py) c.skill, c.x, c.y
        FROM capacity_counts c JOIN residual r ON r.skill = c.skill AND r.x = c.px AND r.y = c.py
        WHERE c.km = :km AND c.shown
        ORDER BY c.skill, c.px, c.py, c.n, c.x, c.y
    )
    UPDATE capacity_counts c SET shown = false
    FROM withheld w
    WHERE c.km = :km AND c.skill = w.skill AND c.x = w.x AND c.y = w.y
    """
)
_PUBLISH = text(
    """
    INSERT INTO capacity_cells (skill, cell_km, x, y, volunteers, geom)
    SELECT skill, km, x, y, n,
           ST_Transform(ST_MakeEnvelope(x * km * 1000.0, y * km * 1000.0,
                                        (x + 1) * km * 1000.0, (y + 1) * km * 1000.0, 27700), 3857)
    FROM capacity_counts
    WHERE shown
    """
)
# Published people within each fixed distance of each gap square's centre, centre to centre on the
# National Grid (its scale error is under 0.04%, 10 m in 25 km). Gap squares are an odd number of km
# wide, so the offset between a 1 km centre and a gap centre is a whole number of km: integer arithmetic.
_GAPS = text(
    """
    INSERT INTO gap_counts (skill, cell_km, within_km, x, y, volunteers)
    SELECT c.skill, g.km, w.km, gx, gy, sum(c.volunteers)::int
    FROM capacity_cells c
    CROSS JOIN unnest(CAST(:gap_sizes AS int[])) AS g(km)
    CROSS JOIN unnest(CAST(:distances AS int[])) AS w(km)
    CROSS JOIN LATERAL generate_series(floor((c.x + 0.5::float8 - w.km) / g.km)::int,
                                       floor((c.x + 0.5::float8 + w.km) / g.km)::int) AS gx
    CROSS JOIN LATERAL generate_series(floor((c.y + 0.5::float8 - w.km) / g.km)::int,
                                       floor((c.y + 0.5::float8 + w.km) / g.km)::int) AS gy
    WHERE c.cell_km = 1
      AND (c.x - g.km * gx - g.km / 2) * (c.x - g.km * gx - g.km / 2)
        + (c.y - g.km * gy - g.km / 2) * (c.y - g.km * gy - g.km / 2) <= w.km * w.km
    GROUP BY c.skill, g.km, w.km, gx, gy
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
    session.execute(delete(GapCount).execution_options(synchronize_session=False))
    _publish_cells(session)
    session.execute(_GAPS, {"gap_sizes": list(GAP_CELL_KM), "distances": list(GAP_WITHIN_KM)})
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
    session.execute(text("ANALYZE gap_counts"))
    return refresh


def _publish_cells(session: Session) -> None:
    """Count every square, withhold what the residual rule requires (module docstring), store the rest."""
    session.execute(
        text(
            "CREATE TEMPORARY TABLE capacity_counts (skill varchar(40), km int, x int, y int, n int, "
            "px int, py int, shown bool) ON COMMIT DROP"
        )
    )
    parents = [*CELL_SIZES_KM[1:], CELL_SIZES_KM[-1]]  # the top level is its own parent: never joined
    session.execute(
        _COUNT,
        {
            "today": today_uk(),
            "any": ANY_SKILL,
            "sizes": list(CELL_SIZES_KM),
            "parents": parents,
            "min_count": MIN_CELL_COUNT,
        },
    )
    session.execute(text("CREATE INDEX ON capacity_counts (km, skill, px, py)"))
    session.execute(text("CREATE INDEX ON capacity_counts (km, skill, x, y)"))
    session.execute(text("ANALYZE capacity_counts"))
    for km, parent_km in reversed(list(pairwise(CELL_SIZES_KM))):
        levels = {"km": km, "parent_km": parent_km, "min_count": MIN_CELL_COUNT}
        session.execute(_CLOSE, levels)
        session.execute(_COMPLEMENT, levels)
    session.execute(_PUBLISH)
    session.execute(text("DROP TABLE capacity_counts"))


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
