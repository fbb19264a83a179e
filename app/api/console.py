"""HTTP routes for the coordinator's console: the /console page, its assets, the skill catalogue and
a place picker.

The page is a shell with no data in it, like /map: it signs in with a token kept in the tab and
fetches everything from the API with that token in the Authorization header (never in a URL). Its
Leaflet is the map's vendored copy, so it works with no internet; with no basemap it draws on a plain
background.
"""

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel

from app.api.deps import AnyToken, CoordinatorToken, SessionDep, SettingsDep
from app.api.pages import body_template, map_page, static_file, static_files
from app.api.reports import STYLE_HASH
from app.skill.service import list_skills
from geo.places import search_towns

router = APIRouter(tags=["console"])

HERE = FilePath(__file__).resolve().parents[1] / "console"
STATIC = static_files(HERE)
PAGE = body_template(HERE, "console.html")


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
    # The report opens from a blob URL under this policy: its one inline style is allowed by its hash.
    return map_page(
        PAGE,
        settings,
        title="NVR console",
        stylesheets=["/map/static/leaflet/leaflet.css", "/console/static/console.css"],
        style_hashes=[STYLE_HASH],
    )


@router.get("/console/static/{path:path}", include_in_schema=False)
def static(path: str) -> FileResponse:
    """The console's script and styles (Leaflet is the map's vendored copy under /map/static/leaflet)."""
    return static_file(STATIC, path)
