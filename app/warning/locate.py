"""Where a warning is: its polygons and circles merged (geo.shapes), and its geocodes resolved against
the resilience areas we hold; codes we do not know are kept and marked as not located."""

from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geography, Geometry, WKBElement
from geoalchemy2.shape import from_shape
from sqlalchemy import cast, func, select
from sqlalchemy.orm import Session

from alerts import cap
from app.area.models import Area
from geo.shapes import circle, merged_area


@dataclass(frozen=True)
class Located:
    """A warning's area (None when nothing in it could be placed) and its geocodes, each with the
    resilience area code it resolved to or None."""

    area: WKBElement | None
    geocodes: list[dict[str, Any]]

    @property
    def not_located(self) -> bool:
        """Whether nothing in the warning could be placed on the map."""
        return self.area is None


def locate(session: Session, *, areas: list[cap.Area]) -> Located:
    """The merged area of CAP area blocks: polygons, geodesic circles and the resilience areas their
    geocodes name (GeometryError when an outline is over the limits)."""
    shape = merged_area(
        [ring for area in areas for ring in area.rings],
        [circle(c.lon, c.lat, c.radius_km) for area in areas for c in area.circles],
    )
    codes = list(dict.fromkeys((g.name, g.value) for area in areas for g in area.geocodes))
    values = sorted({value for _, value in codes})
    known = set(session.scalars(select(Area.code).where(Area.code.in_(values)))) if values else set()
    geocodes = [
        {"name": name, "value": value, "area": value if value in known else None} for name, value in codes
    ]
    if not known:
        return Located(area=None if shape is None else from_shape(shape, srid=4326), geocodes=geocodes)
    union: Any = select(func.ST_Union(Area.geom)).where(Area.code.in_(sorted(known))).scalar_subquery()
    if shape is not None:
        union = func.ST_Union(func.ST_GeomFromText(shape.wkt, 4326), union)
    merged = func.ST_Multi(func.ST_CollectionExtract(func.ST_MakeValid(cast(union, Geometry)), 3))
    area = session.scalar(select(cast(merged, Geography)))
    return Located(area=area, geocodes=geocodes)
