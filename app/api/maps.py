"""HTTP routes for maps: GeoJSON layers, capacity vector tiles, live updates (SSE) and the /map page.

Every route that returns data resolves a `Scope` first (see `scope.py`), so a forum's requests outside
its area are 404s. Tokens travel only in the Authorization header, never in URLs: the page fetches
tiles and reads the event stream with `fetch`, so no token reaches an access log or browser history.
"""

import hashlib
import time
from collections.abc import AsyncIterable, Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC
from email.utils import format_datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.deps import CoordinatorToken, CurrentToken, SessionDep, SettingsDep, current_token
from app.api.pages import body_template, map_page, static_file, static_files
from app.api.params import Id, IdQuery
from app.area.schemas import AreaRead
from app.area.service import list_areas
from app.db import unit_of_work
from app.errors import InvalidInput, NotFound
from app.incident.models import IncidentStatus
from app.map import capacity, live, service
from app.map.geojson import MEDIA_TYPE, collection
from app.map.schemas import MapSession, SkillRead
from app.map.scope import Scope, check_tile, require_area, scope_for, visible_incident
from app.queue import get_redis
from app.skill.models import Skill

router = APIRouter(tags=["maps"])

HERE = FilePath(__file__).resolve().parents[1] / "map"  # the page's template and assets live with the map
STATIC = static_files(HERE)
PAGE = body_template(HERE, "map.html")
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
# Browsers may keep a layer a minute, then revalidate with If-None-Match; `private` because what a
# response holds depends on who asked, so shared caches must not reuse it.
CACHE_CONTROL = "private, max-age=60"
MAX_ZOOM = 22

AreaQuery = Annotated[
    str | None, Query(max_length=40, description="area code; forums may only name their own (default)")
]
SkillQuery = Annotated[str | None, Query(max_length=40, description="skill code; omit for anyone")]
CellKm = Annotated[int, Query(description="cell size in km: 1, 5 or 25")]


def map_scope(session: SessionDep, token: CurrentToken, area: AreaQuery = None) -> Scope:
    """The caller's scope for this request."""
    return scope_for(session, token, area_code=area)


ScopeDep = Annotated[Scope, Depends(map_scope)]


def _geojson(body: str | dict[str, Any]) -> Response:
    """A GeoJSON response from text PostgreSQL built or from a dict."""
    if isinstance(body, str):
        return Response(body, media_type=MEDIA_TYPE)
    return JSONResponse(body, media_type=MEDIA_TYPE)


def _cached(
    request: Request,
    snapshot: capacity.Snapshot,
    tag: str,
    build: Callable[[], bytes | str],
    media_type: str,
) -> Response:
    """A response versioned by the capacity snapshot: 304 when the client already holds this version."""
    etag = f'"{hashlib.sha256(tag.encode()).hexdigest()[:20]}-{snapshot.id}"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(snapshot.refreshed_at.astimezone(UTC), usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Authorization",
    }
    held = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")}
    if etag in held:
        return Response(status_code=304, headers=headers)
    return Response(build(), headers=headers, media_type=media_type)


@router.get("/api/v1/map/me")
def me(session: SessionDep, scope: ScopeDep) -> MapSession:
    """The signed-in role, the area a forum is bound to, and the skills to pick from."""
    area = None
    if scope.area_code is not None:
        found = list_areas(session, code=scope.area_code)[0]
        area = AreaRead(code=found.code, name=found.name, bbox=list(found.bbox))
    skills = [
        SkillRead(code=c, name=n)
        for c, n in session.execute(select(Skill.code, Skill.name).order_by(Skill.name))
    ]
    return MapSession(role=scope.role.value, area=area, skills=skills)


@router.get("/api/v1/map/areas", response_class=Response, responses={200: {"content": {MEDIA_TYPE: {}}}})
def areas(session: SessionDep, scope: ScopeDep) -> Response:
    """Area outlines (simplified): the caller's area, or all of them for coordinators without one."""
    return _geojson(collection(service.area_outlines(session, scope=scope)))


@router.get("/api/v1/map/incidents", response_class=Response, responses={200: {"content": {MEDIA_TYPE: {}}}})
def incidents(
    session: SessionDep, scope: ScopeDep, status: IncidentStatus | None = IncidentStatus.open
) -> Response:
    """Incident areas and rendezvous points in the caller's area, with call-up counts per need."""
    return _geojson(service.incidents_collection(session, scope=scope, status=status))


@router.get(
    "/api/v1/map/incidents/{incident_id}",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
def incident(incident_id: Id, session: SessionDep, scope: ScopeDep) -> Response:
    """One incident as a Feature with counts per need; 404 when it lies outside the caller's area."""
    return _geojson(service.incident_feature(session, visible_incident(session, scope, incident_id)))


@router.get(
    "/api/v1/map/incidents/{incident_id}/callouts",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
def callouts(incident_id: Id, session: SessionDep, token: CoordinatorToken) -> Response:
    """Homes of the people called and accepted for an incident, with their status (coordinators only).

    Names and phones are not in map data; coordinators read them from /api/v1/incidents/{id}/callouts.
    """
    scope = scope_for(session, token, area_code=None)
    visible_incident(session, scope, incident_id)
    return _geojson(collection(service.callouts_features(session, incident_id=incident_id)))


@router.get("/api/v1/map/capacity", response_class=Response, responses={200: {"content": {MEDIA_TYPE: {}}}})
def capacity_layer(
    request: Request, session: SessionDep, scope: ScopeDep, skill: SkillQuery = None, cell_km: CellKm = 5
) -> Response:
    """Active volunteers per grid cell for one skill; cells of fewer than 5 people are never shown."""
    code = capacity.check_skill(session, skill)
    capacity.check_cell_km(cell_km)
    if scope.area_id is None and cell_km != max(capacity.CELL_SIZES_KM):
        raise InvalidInput("for the whole country use cell_km=25, or the vector tiles; or choose an area")
    snapshot = capacity.current_snapshot(session)

    def build() -> str:
        features = capacity.capacity_features(session, scope=scope, skill=code, cell_km=cell_km)
        return collection(
            features,
            as_of=snapshot.refreshed_at.isoformat(),
            skill=code,
            cell_km=cell_km,
            min_count=capacity.MIN_CELL_COUNT,
        )

    return _cached(request, snapshot, f"capacity-{scope.key}-{code}-{cell_km}", build, MEDIA_TYPE)


@router.get("/api/v1/map/gaps", response_class=Response, responses={200: {"content": {MEDIA_TYPE: {}}}})
def gaps(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    skill: SkillQuery = None,
    min_volunteers: Annotated[
        int, Query(ge=capacity.MIN_CELL_COUNT, le=1000, description="at least 5: fewer are never shown")
    ] = 5,
    within_km: Annotated[int, Query(description="km: 5, 10 or 25")] = 10,
    cell_km: Annotated[int, Query(description="square size in km: 5 or 25")] = 5,
) -> Response:
    """Squares of an area with fewer than `min_volunteers` published people within `within_km` of the
    centre, read from the capacity snapshot (so they are never finer than the capacity layer)."""
    require_area(scope)
    code = capacity.check_skill(session, skill)
    service.check_gap_query(min_volunteers=min_volunteers, within_km=within_km, cell_km=cell_km)
    snapshot = capacity.current_snapshot(session)

    def build() -> str:
        features = service.gaps_features(
            session,
            scope=scope,
            skill=code,
            min_volunteers=min_volunteers,
            within_km=within_km,
            cell_km=cell_km,
        )
        return collection(
            features,
            as_of=snapshot.refreshed_at.isoformat(),
            skill=code,
            min_volunteers=min_volunteers,
            within_km=within_km,
            cell_km=cell_km,
        )

    tag = f"gaps-{scope.key}-{code}-{min_volunteers}-{within_km}-{cell_km}"
    return _cached(request, snapshot, tag, build, MEDIA_TYPE)


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={200: {"content": {MVT_MEDIA_TYPE: {}}}},
    tags=["maps"],
)
def tile(
    layer: str,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: int,
    y: int,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    skill: SkillQuery = None,
) -> Response:
    """A Mapbox Vector Tile of the capacity layer (layer name `capacity`); cacheable, with an ETag."""
    if layer != "capacity" or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"no tile {layer}/{z}/{x}/{y}")
    check_tile(session, scope, capacity.tile_envelope(z, x, y))
    code = capacity.check_skill(session, skill)
    snapshot = capacity.current_snapshot(session)
    return _cached(
        request,
        snapshot,
        f"capacity-{scope.key}-{code}",
        lambda: capacity.capacity_tile(session, scope=scope, skill=code, z=z, x=x, y=y),
        MVT_MEDIA_TYPE,
    )


def poll_sessions() -> Callable[[], AbstractContextManager[Session]]:
    """Where live streams get their short per-poll sessions (tests substitute their own)."""
    return unit_of_work


PollSessions = Annotated[Callable[[], AbstractContextManager[Session]], Depends(poll_sessions)]
_bearer = HTTPBearer(auto_error=False)


def stream_slots() -> live.StreamSlots:
    """Where live streams are counted per token (tests may substitute a smaller limit)."""
    return live.StreamSlots(get_redis())


SlotsDep = Annotated[live.StreamSlots, Depends(stream_slots)]


def open_feed(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    sessions: PollSessions,
    slots: SlotsDep,
    area: AreaQuery = None,
    incident: IdQuery = None,
) -> Iterator[live.LiveFeed]:
    """Check the token, scope and stream cap before the stream starts (so failures are plain
    401/404/429 responses), and give the stream's slot back when the request ends.

    The slot is given back here, in the dependency's teardown, which FastAPI runs once the response has
    ended however it ended: a generator abandoned when the client goes away may be finalised much later,
    and the token would keep a slot it no longer uses (three page reloads, then a 429).
    This uses a short session rather than the request's: a stream lasts minutes and must not hold a
    pooled connection all that time.
    """
    with sessions() as session:
        token = current_token(request, session, credentials)
        scope = scope_for(session, token, area_code=area)
        if incident is not None:
            visible_incident(session, scope, incident)
    feed = live.LiveFeed(scope=scope, incident_id=incident, slot=slots.take(scope.token_id))
    try:
        yield feed
    finally:
        slots.give_back(feed.scope.token_id, feed.slot)


@router.get(
    "/api/v1/map/live",
    response_class=EventSourceResponse,
    responses={429: {"description": "this token already holds the most live streams it may"}},
)
async def live_updates(
    feed: Annotated[live.LiveFeed, Depends(open_feed)],
    sessions: PollSessions,
    slots: SlotsDep,
    max_seconds: Annotated[
        float, Query(gt=0, le=86_400, description="close the stream after this long")
    ] = 3600,
) -> AsyncIterable[ServerSentEvent]:
    """Server-Sent Events as incidents and call-ups change (see `live.py` for the events).

    The first events describe every open incident in scope; after that, only changes. Polls run in a
    worker thread one at a time, and the stream waits between them without holding a thread. One
    token may hold `live.MAX_STREAMS_PER_TOKEN` streams at once; one more is a 429.
    """
    async for event in _stream(feed, sessions, max_seconds, slots):
        yield event


async def _stream(
    feed: live.LiveFeed, sessions: PollSessions, max_seconds: float, slots: live.StreamSlots
) -> AsyncIterable[ServerSentEvent]:
    """The events of one stream until it closes or `max_seconds` pass, renewing its slot each poll."""
    yield ServerSentEvent(comment="nvr live map", retry=3000)
    deadline = time.monotonic() + max_seconds
    while not feed.closed:
        for event in await anyio.to_thread.run_sync(live.poll, feed, sessions):
            yield ServerSentEvent(event=event.name, raw_data=event.data)
        await anyio.to_thread.run_sync(slots.renew, feed.scope.token_id, feed.slot)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        await anyio.sleep(min(live.POLL_S, remaining))


@router.get("/map", response_class=HTMLResponse, include_in_schema=False)
def page(settings: SettingsDep) -> HTMLResponse:
    """The map page: a shell with no data in it; it signs in and fetches everything with a token."""
    styles = ["/map/static/leaflet/leaflet.css", "/map/static/map.css"]
    return map_page(PAGE, settings, title="NVR map", stylesheets=styles)


@router.get("/map/static/{path:path}", include_in_schema=False)
def static(path: str) -> FileResponse:
    """The page's script, styles and the vendored Leaflet (no CDN: the map works offline)."""
    return static_file(STATIC, path)
