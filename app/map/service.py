"""Map layers: incidents and rendezvous points, call-ups by status, and coverage gaps.

What a caller sees is decided by `scope.py`; this module only builds layers for a given scope.
Forums (`Scope.aggregates_only`) get incidents with per-need counts; positions of people are only
ever built for coordinators, and no layer carries a name or a phone number.
"""

from collections.abc import Sequence
from typing import Any

from geoalchemy2 import Geometry
from geoalchemy2.shape import to_shape
from sqlalchemy import Select, Text, and_, case, cast, column, func, select, text
from sqlalchemy.orm import Session

from app.area.models import Area
from app.callout.models import Callout, CalloutStatus
from app.callout.progress import need_read
from app.errors import InvalidInput
from app.incident.models import Incident, IncidentStatus, Need
from app.incident.service import needs_of
from app.map.capacity import GAP_CELL_KM, GAP_WITHIN_KM, MIN_CELL_COUNT
from app.map.geojson import features_array, json_object
from app.map.scope import Scope, incident_filter, require_area
from app.volunteer.models import Volunteer
from geo.geojson import to_geojson

# Positions are shown for people engaged in an incident: asked and not yet answered, or coming.
ENGAGED = (CalloutStatus.called, CalloutStatus.accepted)
MAX_INCIDENTS = 500
OUTLINE_TOLERANCE = 0.001  # degrees: about 100 m, finer than a pixel below zoom 11
MAX_GAP_CELLS = 20_000  # squares of one gaps answer: the largest LRF holds about 1,300 of 5 km

# The area's squares, each with the published people counted within `within_km` of its centre.
_GAPS = """
WITH area AS MATERIALIZED (SELECT ST_Transform(geom, 27700) AS g FROM areas WHERE id = :area_id),
cells AS (
    SELECT grid.i, grid.j, grid.geom
    FROM area CROSS JOIN LATERAL ST_SquareGrid(:size_m, area.g) AS grid
    WHERE ST_Intersects(grid.geom, area.g)
)
SELECT concat(CAST(:km AS int), 'km:', c.i, ':', c.j) AS id,
       ST_Transform(c.geom, 4326) AS geom,
       json_build_object(
           'cell', concat(CAST(:km AS int), 'km:', c.i, ':', c.j),
           'cell_km', CAST(:km AS int),
           'skill', CAST(:skill AS text),
           'min_volunteers', CAST(:n AS int),
           'within_km', CAST(:within_km AS int),
           'volunteers', coalesce(near.volunteers, 0)
       ) AS properties
FROM cells c
LEFT JOIN gap_counts near
       ON near.skill = :skill AND near.cell_km = :km AND near.within_km = :within_km
      AND near.x = c.i AND near.y = c.j
WHERE coalesce(near.volunteers, 0) < :n
"""


def area_outlines(session: Session, *, scope: Scope) -> str:
    """Outlines of the scope's area, or of every area, simplified to about 100 m: a map backdrop that
    needs no basemap (full boundaries are at /api/v1/areas/{code})."""
    rows = select(
        Area.code.label("id"),
        func.ST_SimplifyPreserveTopology(Area.geom, OUTLINE_TOLERANCE).label("geom"),
        json_object(code=Area.code, name=Area.name).label("properties"),
    )
    if scope.area_id is not None:
        rows = rows.where(Area.id == scope.area_id)
    return features_array(session, rows)


def incident_feature(session: Session, incident: Incident) -> dict[str, Any]:
    """An incident's area with its progress per need: counts only, fit for every role."""
    return {
        "type": "Feature",
        "id": f"incident-{incident.id}",
        "geometry": to_geojson(to_shape(incident.area)),
        "properties": {
            "layer": "incident",
            "incident_id": incident.id,
            "title": incident.title,
            "kind": incident.kind.value,
            "status": incident.status.value,
            "exercise": incident.exercise,
            "place": incident.place,
            "radius_km": incident.radius_km,
            "starts_at": incident.starts_at.isoformat(),
            "needs": [need_read(session, n).model_dump() for n in needs_of(session, incident.id)],
        },
    }


def rendezvous_feature(incident: Incident) -> dict[str, Any] | None:
    """Where accepted volunteers go, as a point feature, or None when the incident has none."""
    if incident.rendezvous_point is None:
        return None
    return {
        "type": "Feature",
        "id": f"rendezvous-{incident.id}",
        "geometry": to_geojson(to_shape(incident.rendezvous_point)),
        "properties": {"layer": "rendezvous", "incident_id": incident.id, "text": incident.rendezvous_text},
    }


def visible_incidents(
    session: Session, *, scope: Scope, status: IncidentStatus | None, ids: Sequence[int] | None = None
) -> list[Incident]:
    """Incidents in the scope's area, newest first."""
    query = select(Incident).where(incident_filter(scope)).order_by(Incident.id.desc()).limit(MAX_INCIDENTS)
    if status is not None:
        query = query.where(Incident.status == status)
    if ids is not None:
        query = query.where(Incident.id.in_(ids))
    return list(session.scalars(query))


def incidents_collection(session: Session, *, scope: Scope, status: IncidentStatus | None) -> dict[str, Any]:
    """Incident areas and rendezvous points in the scope's area, as one FeatureCollection."""
    features: list[dict[str, Any]] = []
    for incident in visible_incidents(session, scope=scope, status=status):
        features.append(incident_feature(session, incident))
        rendezvous = rendezvous_feature(incident)
        if rendezvous is not None:
            features.append(rendezvous)
    return {"type": "FeatureCollection", "features": features}


def callout_rows(*, incident_ids: Sequence[int], callout_ids: Sequence[int] | None = None) -> Select[Any]:
    """Call-ups as (id, geom, properties) rows; only engaged people carry a position (a home)."""
    # A closed incident's confirmed people stay accepted in the record, but their homes are no longer shown.
    engaged = and_(Callout.status.in_(ENGAGED), Incident.status == IncidentStatus.open)
    query = (
        select(
            Callout.id.label("id"),
            case((engaged, cast(Volunteer.location, Geometry)), else_=None).label("geom"),
            json_object(
                callout_id=Callout.id,
                incident_id=Callout.incident_id,
                volunteer_id=Callout.volunteer_id,
                status=cast(Callout.status, Text),
                skill=Need.skill_code,
                wave=Callout.wave,
                distance_km=Callout.distance_km,
                answered_at=Callout.answered_at,
            ).label("properties"),
        )
        .join(Volunteer, Volunteer.id == Callout.volunteer_id)
        .join(Need, Need.id == Callout.need_id)
        .join(Incident, Incident.id == Callout.incident_id)
        .where(Callout.incident_id.in_(incident_ids))
    )
    if callout_ids is None:
        return query.where(engaged, Volunteer.location.is_not(None))
    return query.where(Callout.id.in_(callout_ids))


def callouts_features(session: Session, *, incident_id: int) -> str:
    """An incident's engaged call-ups (called, accepted) at volunteers' homes, coloured by status."""
    return features_array(session, callout_rows(incident_ids=[incident_id]))


def gaps_features(
    session: Session, *, scope: Scope, skill: str, min_volunteers: int, within_km: int, cell_km: int
) -> str:
    """Squares of the area with fewer than `min_volunteers` published people within `within_km`.

    Read from `gap_counts` (see `capacity.py`): `volunteers` is a sum of published 1 km capacity
    squares whose centres lie within `within_km` of the square's centre, so it is 0 or at least five,
    and so is the difference between any two answers over nested discs.
    """
    area_id = require_area(scope)
    check_gap_query(min_volunteers=min_volunteers, within_km=within_km, cell_km=cell_km)
    size_m = cell_km * 1000.0
    area_m2 = session.scalar(
        text("SELECT ST_Area(ST_Transform(geom, 27700)) FROM areas WHERE id = :id"), {"id": area_id}
    )
    if (area_m2 or 0) / (size_m * size_m) > MAX_GAP_CELLS:
        raise InvalidInput(f"cell_km={cell_km} makes too many cells for this area; use a larger cell")
    values = {
        "area_id": area_id,
        "size_m": size_m,
        "km": cell_km,
        "skill": skill,
        "n": min_volunteers,
        "within_km": within_km,
    }
    rows = text(_GAPS).bindparams(**values)
    return features_array(session, rows.columns(column("id"), column("geom"), column("properties")))


def check_gap_query(*, min_volunteers: int, within_km: int, cell_km: int) -> None:
    """Only thresholds of five or more, and distances and squares the snapshot holds (see `capacity.py`)."""
    if min_volunteers < MIN_CELL_COUNT:
        raise InvalidInput(f"min_volunteers must be at least {MIN_CELL_COUNT}: fewer are never shown")
    if within_km not in GAP_WITHIN_KM:
        raise InvalidInput(f"within_km must be one of {', '.join(map(str, GAP_WITHIN_KM))}")
    if cell_km not in GAP_CELL_KM:
        raise InvalidInput(f"cell_km must be one of {', '.join(map(str, GAP_CELL_KM))} for gaps")
