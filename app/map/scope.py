"""Who may see what on the maps: the one place that turns a token into the area it may look at.

An `lrf_viewer` sees its own area only; coordinators and admins see everything, or one area they
pick. Anything outside the caller's area is reported as not existing (404), never as forbidden (403),
so a forum cannot learn that something exists elsewhere. Every map query filters through here.
"""

from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, ColumnElement, cast, func, select, true
from sqlalchemy.orm import Session

from app.area.models import Area
from app.area.service import get_area
from app.auth.models import ApiToken, Role
from app.errors import InvalidInput, NotFound
from app.incident.models import Incident

MERCATOR = 3857


@dataclass(frozen=True)
class Scope:
    """What one request may see: one area, or everywhere when `area_id` is None."""

    token_id: int
    role: Role
    area_id: int | None
    area_code: str | None
    area_version: int

    @property
    def aggregates_only(self) -> bool:
        """Forums see counts, never people: no positions, names or phones."""
        return self.role is Role.lrf_viewer

    @property
    def key(self) -> str:
        """Identifies what this scope can see, for cache validators (ETags)."""
        return f"{self.area_code}.{self.area_version}" if self.area_code else "all"


def scope_for(session: Session, token: ApiToken, *, area_code: str | None) -> Scope:
    """The area `token` may see in this request, given the area it asks for (None: its default).

    A viewer asking for any area but its own gets NotFound, exactly as for an area that does not exist.
    """
    if token.role is Role.lrf_viewer:
        if area_code is not None and area_code != token.area_code:
            raise NotFound(f"area {area_code} does not exist")
        if token.area_code is None:
            raise NotFound("this token is bound to no area")
        area: Area | None = get_area(session, code=token.area_code)
    else:
        area = get_area(session, code=area_code) if area_code else None
    return Scope(
        token_id=token.id,
        role=token.role,
        area_id=area.id if area else None,
        area_code=area.code if area else None,
        area_version=int(area.updated_at.timestamp()) if area else 0,
    )


def require_area(scope: Scope) -> int:
    """The scope's area id, for layers that are only computed one area at a time."""
    if scope.area_id is None:
        raise InvalidInput("choose an area (?area=CODE): this layer is computed one area at a time")
    return scope.area_id


def area_geom(scope: Scope, srid: int = 4326) -> Any:
    """The scope's boundary as a scalar subquery (in `srid`), or None when the scope is everywhere."""
    if scope.area_id is None:
        return None
    geom = Area.geom if srid == 4326 else func.ST_Transform(Area.geom, srid)
    return select(geom).where(Area.id == scope.area_id).scalar_subquery()


def incident_filter(scope: Scope) -> ColumnElement[bool]:
    """Incidents whose area intersects the scope's area (all of them when the scope is everywhere)."""
    boundary = area_geom(scope)
    if boundary is None:
        return true()
    return func.ST_Intersects(cast(Incident.area, Geometry), boundary)


def visible_incident(session: Session, scope: Scope, incident_id: int) -> Incident:
    """An incident the scope may see, or NotFound whether it is missing or outside the area."""
    incident = session.scalar(select(Incident).where(Incident.id == incident_id, incident_filter(scope)))
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def check_tile(session: Session, scope: Scope, envelope: Any) -> None:
    """NotFound for a tile (a Web Mercator envelope) that lies wholly outside the scope's area."""
    boundary = area_geom(scope, MERCATOR)
    if boundary is None:
        return
    # A metre of slack: the map asks for tiles that touch the area's box, computed in floating point.
    if not session.scalar(select(func.ST_Expand(envelope, 1.0).op("&&", return_type=Boolean)(boundary))):
        raise NotFound("no such tile in this area")
