"""The capacity snapshot: volunteers counted per grid cell and skill, ready for maps and tiles.

Counting a million homes on every map request is too slow, so a refresh (see `capacity.py`) counts
them once into this table and maps read it. Only cells with at least `MIN_CELL_COUNT` people are
stored, so a small, identifying count never rests where a query could leak it.
"""

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import DateTime, Index, Integer, SmallInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class CapacityCell(Base):
    """Active volunteers living in one British National Grid square, for one skill ('*' = anyone).

    `x`, `y` are the square's grid indexes (easting and northing divided by the cell size), so
    `5 km, 71, 111` is the square from (355 km, 555 km) to (360 km, 560 km). `geom` is the square in
    Web Mercator, the projection of map tiles.
    """

    __tablename__ = "capacity_cells"
    __table_args__ = (Index("ix_capacity_cells_geom", "geom", postgresql_using="gist"),)

    skill: Mapped[str] = mapped_column(String(40), primary_key=True)
    cell_km: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    x: Mapped[int] = mapped_column(Integer, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteers: Mapped[int] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", srid=3857, spatial_index=False))


class CapacityRefresh(Base):
    """One rebuild of the snapshot; the newest one dates what the maps show and versions tile ETags."""

    __tablename__ = "capacity_refreshes"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    volunteers: Mapped[int] = mapped_column(Integer)
    cells: Mapped[int] = mapped_column(Integer)
    took_ms: Mapped[int] = mapped_column(Integer)


class GapCount(Base):
    """Published people within `within_km` of one grid square's centre, for the coverage-gap layer.

    Counted at refresh time from the published 1 km capacity cells only (see `capacity.py`), so a gaps
    answer is a sum of numbers every viewer can already see and can never look past their suppression.
    Squares with nobody published in reach have no row (their count is 0).
    """

    __tablename__ = "gap_counts"

    skill: Mapped[str] = mapped_column(String(40), primary_key=True)
    cell_km: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    within_km: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    x: Mapped[int] = mapped_column(Integer, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteers: Mapped[int] = mapped_column(Integer)
