"""`nvr areas ...`: resilience area boundaries, and the capacity snapshot the maps read."""

import json
from pathlib import Path

import typer

from app.area.service import area_around, import_areas, list_areas
from app.db import unit_of_work
from app.errors import DomainError
from app.map.capacity import refresh_capacity
from geo.errors import GeometryError
from geo.features import read_feature_collection

app = typer.Typer(help="Resilience areas (LRF boundaries) and map capacity.", no_args_is_help=True)
ACTOR = "cli"


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="a GeoJSON FeatureCollection"),
    code_field: str = typer.Option(..., help="property holding the area code, e.g. LRFCode"),
    name_field: str = typer.Option(..., help="property holding the area name, e.g. LRFName"),
    srid: int | None = typer.Option(None, help="EPSG code of the coordinates, when the file does not say"),
) -> None:
    """Load or update areas from GeoJSON (any declared CRS; invalid boundaries repaired and reported)."""
    try:
        collection = read_feature_collection(json.loads(file.read_text(encoding="utf-8")), srid=srid)
        with unit_of_work() as session:
            report = import_areas(
                session, collection=collection, code_field=code_field, name_field=name_field, actor=ACTOR
            )
    except (GeometryError, DomainError, json.JSONDecodeError) as exc:
        typer.echo(f"error: {getattr(exc, 'detail', exc)}", err=True)
        raise typer.Exit(2) from exc
    for repair in report.repaired:
        typer.echo(f"repaired {repair.code} ({repair.name}): {repair.reason}")
    typer.echo(
        f"imported {len(report.inserted) + len(report.updated)} areas from {file.name} (EPSG:{report.srid}): "
        f"{len(report.inserted)} new, {len(report.updated)} updated, {len(report.repaired)} repaired"
    )


@app.command("around")
def around(
    code: str = typer.Option(..., help="area code, e.g. DEMO"),
    name: str = typer.Option(..., help="area name"),
    lon: float = typer.Option(...),
    lat: float = typer.Option(...),
    radius_km: float = typer.Option(25.0, min=1, max=300),
) -> None:
    """Create or replace a round area around a point (demos and drills without official boundaries)."""
    with unit_of_work() as session:
        area_around(session, code=code, name=name, lon=lon, lat=lat, radius_km=radius_km, actor=ACTOR)
    typer.echo(f"area {code} ({name}): {radius_km:g} km around ({lon}, {lat})")


@app.command("list")
def list_command() -> None:
    """Every area: code, name and bounding box."""
    with unit_of_work() as session:
        for area in list_areas(session):
            west, south, east, north = area.bbox
            typer.echo(f"{area.code}\t{area.name}\t{west:.3f},{south:.3f},{east:.3f},{north:.3f}")


@app.command("refresh-capacity")
def refresh() -> None:
    """Recount volunteers per grid square for the capacity maps (run it from cron, or after an import)."""
    with unit_of_work() as session:
        done = refresh_capacity(session)
    typer.echo(f"counted {done.volunteers} volunteers into {done.cells} cells in {done.took_ms} ms")
