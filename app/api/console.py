"""HTTP routes for the coordinator's console: the /console page, its assets, the skill catalogue and
a place picker.

The page is a shell with no data in it, like /map: it signs in with a token kept in the tab and
fetches everything from the API with that token in the Authorization header (never in a URL). Its
Leaflet is the map's vendored copy, so it works with no internet; with no basemap it draws on a plain
background.
"""

import html
from pathlib import Path as FilePath
from string import Template
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel

from app.api.deps import AnyToken, CoordinatorToken, SessionDep, SettingsDep
from app.api.maps import PAGE_HEADERS, page_policy
from app.api.reports import STYLE_HASH
from app.errors import NotFound
from app.skill.service import list_skills
from geo.places import search_towns

router = APIRouter(tags=["console"])

HERE = FilePath(__file__).resolve().parents[1] / "console"
STATIC = {p.relative_to(HERE / "static").as_posix(): p for p in (HERE / "static").rglob("*") if p.is_file()}
PAGE = Template((HERE / "templates" / "console.html").read_text(encoding="utf-8"))


class SkillEntry(BaseModel):
    """A skill of the catalogue."""

    code: str
    name: str


class PlaceEntry(BaseModel):
    """A UK town a coordinator can centre an incident on."""

    name: str
    lon: float
    lat: float


@router.get("/api/v1/skills", tags=["skills"])
def skills(session: SessionDep, token: AnyToken) -> list[SkillEntry]:
    """The skill catalogue, by name: the codes needs and credentials may use."""
    return [SkillEntry(code=s.code, name=s.name) for s in list_skills(session)]


@router.get("/api/v1/places", tags=["console"])
def places(
    token: CoordinatorToken,
    q: Annotated[str, Query(min_length=1, max_length=60, description="the start of a town's name")],
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> list[PlaceEntry]:
    """UK towns of 15,000+ people whose name starts with `q`, most populous first."""
    return [PlaceEntry(name=t.name, lon=t.lon, lat=t.lat) for t in search_towns(q, limit=limit)]


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
def page(settings: SettingsDep) -> HTMLResponse:
    """The console page: declare, watch, read, act, timeline; it fetches everything with a token."""
    body = PAGE.substitute(
        basemap_url=html.escape(settings.basemap_url, quote=True),
        basemap_attribution=html.escape(settings.basemap_attribution, quote=True),
    )
    # The report opens from a blob URL under this policy: its one inline style is allowed by its hash.
    policy = page_policy(settings.basemap_url).replace("style-src 'self'", f"style-src 'self' {STYLE_HASH}")
    return HTMLResponse(body, headers={"Content-Security-Policy": policy, **PAGE_HEADERS})


@router.get("/console/static/{path:path}", include_in_schema=False)
def static(path: str) -> FileResponse:
    """The console's script and styles (Leaflet is the map's vendored copy under /map/static/leaflet)."""
    found = STATIC.get(path)
    if found is None:
        raise NotFound(f"no static file {path}")
    return FileResponse(found, headers={"Cache-Control": "public, max-age=3600"})
