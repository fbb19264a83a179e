"""Building areas, places on the British National Grid and tile addresses for the map tests."""

import math
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.area.models import Area
from app.area.service import area_around
from app.queue import get_redis

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
UK_AREAS = SHARED_DATA / "resilience_areas_uk.geojson"
CARLISLE = (-2.9350, 54.8925)
LONDON = (-0.1276, 51.5072)


def add_area(db: Session, code: str, centre: tuple[float, float], radius_km: float = 20.0) -> Area:
    """A round test area around `centre`."""
    area = area_around(
        db,
        code=code,
        name=f"Test area {code}",
        lon=centre[0],
        lat=centre[1],
        radius_km=radius_km,
        actor="test",
    )
    db.commit()
    return area


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The slippy-map tile z/x/y holding a point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def bng_cell(db: Session, lon: float, lat: float, km: int) -> tuple[int, int]:
    """The British National Grid square (grid indexes) of size `km` holding a point."""
    row = db.execute(
        text(
            "SELECT floor(ST_X(p) / :m)::int, floor(ST_Y(p) / :m)::int "
            "FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 27700) AS p) s"
        ),
        {"lon": lon, "lat": lat, "m": km * 1000.0},
    ).one()
    return int(row[0]), int(row[1])


def bng_centre(db: Session, x: int, y: int, km: int) -> tuple[float, float]:
    """The (lon, lat) centre of a British National Grid square."""
    row = db.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID("
            "ST_MakePoint((:x + 0.5) * :m, (:y + 0.5) * :m), 27700), 4326) AS p) s"
        ),
        {"x": x, "y": y, "m": km * 1000.0},
    ).one()
    return float(row[0]), float(row[1])


def forget_stream_slots() -> None:
    """Token ids restart with each test database, so live-stream slots an earlier run left must go."""
    redis = get_redis()
    for key in redis.scan_iter("nvr:live-streams:*"):
        redis.delete(key)
