"""`nvr incidents ...`: declare, follow and close incidents through the HTTP API, from any laptop.

These commands hold no database connection: they speak to the API at NVR_API_URL with the bearer
token in NVR_TOKEN, exactly as the console does, so the API's rules and audit trail apply to them.
"""

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from alerts.text import local_time_text
from app.incident.models import IncidentKind, IncidentStatus
from geo.errors import GeometryError
from geo.grid import parse_grid_reference
from geo.places import find_settlement
from tools.board import board_table, fill_line

app = typer.Typer(help="Declare, list, show, watch and close incidents (via the API).", no_args_is_help=True)
UK = ZoneInfo("Europe/London")
DEFAULT_API_URL = "http://127.0.0.1:8000"


class Api:
    """The API as these commands use it: every failure becomes one line on stderr and exit 1."""

    def __init__(self, url: str, token: str | None) -> None:
        if not token:
            _fail("no token: set NVR_TOKEN (or pass --token) to a coordinator's token (nvr token create)")
        self.url = url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30, trust_env=False
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of one request; a refusal or an unreachable API ends the command."""
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            _fail(f"cannot reach the API at {self.url} ({type(exc).__name__}); check NVR_API_URL")
        if response.status_code >= 400:
            _fail(_problem(response))
        return response.json()


def _problem(response: httpx.Response) -> str:
    """One line saying why the API refused: its status and the problem's detail."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    if response.status_code == 401:
        return f"401 the API refused the token ({detail or 'unauthorized'}); check NVR_TOKEN"
    phrase = body.get("title") if isinstance(body, dict) and body.get("title") else response.reason_phrase
    return f"{response.status_code} {phrase}: {detail or response.text[:200]}"


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@app.callback()
def connect(
    ctx: typer.Context,
    api_url: str = typer.Option(DEFAULT_API_URL, envvar="NVR_API_URL", help="the nvr API's address"),
    token: str | None = typer.Option(None, envvar="NVR_TOKEN", help="a coordinator's bearer token"),
) -> None:
    """Where the API is and who is asking (NVR_API_URL and NVR_TOKEN)."""
    ctx.obj = (api_url, token)


def _api(ctx: typer.Context) -> Api:
    url, token = ctx.obj
    return Api(url, token)


def _needs(values: list[str]) -> list[dict[str, Any]]:
    needs = []
    for value in values:
        skill, _, count = value.partition("=")
        if not skill.strip() or not count.strip().isdigit():
            raise typer.BadParameter(f"--need takes SKILL=COUNT, e.g. first_aid=4 (got {value!r})")
        needs.append({"skill": skill.strip(), "count": int(count)})
    return needs


def _locate(place: str) -> tuple[float, float]:
    """A UK place of 1,000+ people by name, or a grid reference ("NY 401 559"), as (lon, lat)."""
    try:
        settlement = find_settlement(place)
        return settlement.lon, settlement.lat
    except KeyError as not_a_place:
        try:
            return parse_grid_reference(place)
        except GeometryError:
            raise typer.BadParameter(str(not_a_place.args[0]), param_hint="--place") from None


def _area(path: Path) -> dict[str, Any]:
    """The geometry in a GeoJSON file: a geometry, a Feature, or a FeatureCollection of one feature."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="--area") from exc
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise typer.BadParameter(f"{path} has {len(features)} features; give one", param_hint="--area")
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} holds no GeoJSON geometry", param_hint="--area")
    return data


def _instant(value: str) -> str:
    """An ISO time; one without an offset is read on the UK clock, as the operator meant it."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        problem = f"{value!r} is not a time like 2026-12-14T10:00"
        raise typer.BadParameter(problem, param_hint="--starts-at") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UK)).isoformat()


@app.command()
def declare(
    ctx: typer.Context,
    kind: IncidentKind = typer.Option(..., help="what kind of emergency"),
    need: list[str] = typer.Option(..., help="SKILL=COUNT, repeated for each need, e.g. first_aid=4"),
    place: str | None = typer.Option(None, help="a UK place name or a grid reference, e.g. 'NY 401 559'"),
    lon: float | None = typer.Option(None, help="longitude of the incident (with --lat)"),
    lat: float | None = typer.Option(None, help="latitude of the incident (with --lon)"),
    area: Path | None = typer.Option(None, exists=True, dir_okay=False, help="a GeoJSON file of the area"),
    radius_km: float = typer.Option(10.0, min=0, help="how far to look for volunteers at first"),
    max_radius_km: float | None = typer.Option(None, min=0, help="how far the search may widen"),
    title: str | None = typer.Option(None, help="a title (default: the kind and the place)"),
    exercise: bool = typer.Option(False, help="a drill: every text says EXERCISE"),
    starts_at: str | None = typer.Option(
        None, help="when people are needed (default now), UK time unless an offset is given"
    ),
    rendezvous: str | None = typer.Option(None, help="where confirmed people go, at the incident's point"),
    wave_timeout_s: int | None = typer.Option(None, min=1, help="how long to wait before the next wave"),
) -> None:
    """Declare an incident: the first wave of call-ups goes out at once."""
    given = [place is not None, lon is not None or lat is not None, area is not None]
    if sum(given) != 1:
        raise typer.BadParameter("say where with one of --place, --lon and --lat, or --area")
    if area is not None:
        geometry, where = _area(area), area.stem
    elif place is not None:
        geometry, where = {"type": "Point", "coordinates": list(_locate(place))}, place
    elif lon is not None and lat is not None:
        geometry, where = {"type": "Point", "coordinates": [lon, lat]}, f"{lon:.4f}, {lat:.4f}"
    else:
        raise typer.BadParameter("--lon and --lat go together")
    body: dict[str, Any] = {
        "title": title or f"{kind.value.capitalize()} at {where}",
        "kind": kind.value,
        "area": geometry,
        "radius_km": radius_km,
        "needs": _needs(need),
        "exercise": exercise,
    }
    if max_radius_km is not None:
        body["max_radius_km"] = max_radius_km
    if starts_at is not None:
        body["starts_at"] = _instant(starts_at)
    if wave_timeout_s is not None:
        body["wave_timeout_s"] = wave_timeout_s
    if rendezvous is not None:
        centre = geometry if geometry["type"] == "Point" else None
        if centre is None:
            raise typer.BadParameter("--rendezvous needs a point incident (--place or --lon/--lat)")
        body["rendezvous"] = {"point": centre, "text": rendezvous}
    incident = _api(ctx).call("POST", "/api/v1/incidents", json=body)
    console = Console()
    console.print(
        f"declared incident {incident['id']}: {incident['title']} ({incident['place']})"
        + (" (exercise)" if incident["exercise"] else ""),
        markup=False,
    )
    console.print(board_table(incident))
    console.print(f"follow it with: nvr incidents watch {incident['id']}")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: IncidentStatus | None = typer.Option(None, help="only open or closed incidents"),
    limit: int = typer.Option(50, min=1, max=200),
) -> None:
    """Incidents, newest first, with how far each has filled."""
    params: dict[str, Any] = {"limit": limit} | ({"status": status.value} if status else {})
    page = _api(ctx).call("GET", "/api/v1/incidents", params=params)
    table = Table(title=f"{page['total']} incident(s)")
    for column in ("id", "status", "title", "place", "exercise", "filled", "declared (UK time)"):
        table.add_column(column)
    for incident in page["items"]:
        table.add_row(
            str(incident["id"]),
            incident["status"],
            escape(incident["title"]),
            escape(incident["place"]),
            "yes" if incident["exercise"] else "",
            fill_line(incident),
            _uk_time(incident["created_at"]),
        )
    Console().print(table)


def _uk_time(value: str) -> str:
    """An API instant as the texts give it, on the UK clock: "Sat 14 Dec 10:00"."""
    return local_time_text(datetime.fromisoformat(value), UK)


@app.command()
def show(ctx: typer.Context, incident_id: int = typer.Argument(..., help="the incident's id")) -> None:
    """One incident: where, when, and the board of its needs."""
    incident = _api(ctx).call("GET", f"/api/v1/incidents/{incident_id}")
    console = Console()
    console.print(_heading(incident), markup=False)
    console.print(board_table(incident))
    console.print(fill_line(incident))


def _heading(incident: dict[str, Any]) -> str:
    rendezvous = incident.get("rendezvous") or {}
    parts = [
        f"incident {incident['id']}: {incident['title']} - {incident['kind']} at {incident['place']}",
        f"status {incident['status']}" + (" (exercise)" if incident["exercise"] else ""),
        f"starts {_uk_time(incident['starts_at'])}",
        f"radius {incident['radius_km']:.0f} km (up to {incident['max_radius_km']:.0f})",
    ]
    if rendezvous.get("text"):
        parts.append(f"rendezvous {rendezvous['text']}")
    if incident.get("closed_at"):
        parts.append(f"closed {_uk_time(incident['closed_at'])}")
    return " · ".join(parts)


def finished(incident: dict[str, Any]) -> str | None:
    """Why watching can stop (every need filled, or the incident closed), or None to go on."""
    if incident["status"] != IncidentStatus.open.value:
        return "the incident is closed"
    if all(need["filled"] for need in incident["needs"]):
        return "every need is filled"
    return None


@app.command()
def watch(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., help="the incident's id"),
    every_s: float = typer.Option(1.0, min=0.2, help="how often to ask the API"),
) -> None:
    """A live board of the incident, until every need fills or it closes (Ctrl-C to stop sooner)."""
    api = _api(ctx)
    console = Console()
    incident = api.call("GET", f"/api/v1/incidents/{incident_id}")
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while True:
            title = escape(f"{_heading(incident)}\n{fill_line(incident)}")
            live.update(board_table(incident, title=title))
            reason = finished(incident)
            if reason is not None:
                break
            time.sleep(every_s)
            incident = api.call("GET", f"/api/v1/incidents/{incident_id}")
    if not console.is_terminal:
        console.line()  # a live view written to a file or pipe ends without its newline
    console.print(f"incident {incident_id}: {reason}")


@app.command()
def close(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., help="the incident's id"),
    reason: str = typer.Option(..., help="why it is closed; texted to everyone called"),
) -> None:
    """Close the incident and stand everyone down."""
    incident = _api(ctx).call("POST", f"/api/v1/incidents/{incident_id}/close", json={"reason": reason})
    Console().print(f"closed incident {incident['id']}: {incident['title']}", markup=False)
    Console().print(board_table(incident))
