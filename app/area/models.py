"""Resilience area table.

`geom` is a planar `geometry(MultiPolygon, 4326)`, not `geography`, on purpose:
- boundaries are published as lon/lat (or British National Grid) polygons whose edges are straight in
  that plane; geography would bend long edges of low-resolution boundaries along great circles;
- the map needs functions that exist only for geometry (ST_MakeValid, ST_Transform to 27700 and 3857,
  ST_SquareGrid, ST_AsMVTGeom), and planar intersection tests are cheaper than spheroidal ones;
- the UK is far from the antimeridian and the poles, where planar lon/lat goes wrong.
Distances are still measured on the volunteers' `geography` side, in metres.
"""

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin


class Area(TimestampMixin, Base):
    """One resilience area, e.g. Cumbria LRF (E48000006); codes come from the boundary file."""

    __tablename__ = "areas"
    __table_args__ = (Index("ix_areas_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Deferred and never loaded by accident: official boundaries run to megabytes, and every use of
    # them (intersections, transforms, GeoJSON) happens in SQL.
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), deferred=True, deferred_raiseload=True
    )
