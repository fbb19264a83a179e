"""`nvr seed`: fill a development database with a realistic synthetic reserve."""

import getpass
import time

import typer
from rich.console import Console

from app.db import unit_of_work
from app.settings import get_settings
from geo.places import find_town
from tools.reserve import analyze_reserve, seed_volunteers


def seed(
    volunteers: int = typer.Option(..., min=1, max=5_000_000, help="how many volunteers to add"),
    seed: int = typer.Option(0, help="the same seed makes the same people"),
    near: str | None = typer.Option(None, help="put every home near this town (e.g. Carlisle), for a demo"),
    radius_km: float = typer.Option(20.0, min=0.1, max=500, help="with --near: how far homes spread"),
) -> None:
    """Add synthetic volunteers: homes spread like the UK population, valid unique mobiles, passports."""
    settings = get_settings()
    if settings.sms_provider == "twilio" and not settings.twilio_api_base:
        # Synthetic numbers are valid UK mobiles that may belong to real people.
        typer.echo(
            "error: refusing to seed a reserve that sends through real Twilio (TWILIO_API_BASE unset)",
            err=True,
        )
        raise typer.Exit(2)
    console = Console()
    try:
        town = find_town(near) if near is not None else None
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from exc
    where = f"within {radius_km:g} km of {town.name}" if town else "across the UK"
    started = time.perf_counter()
    with console.status(f"seeding {volunteers:,} volunteers {where}..."):
        with unit_of_work() as session:
            summary = seed_volunteers(
                session,
                count=volunteers,
                actor=f"cli:{getpass.getuser()}",
                seed=seed,
                near=town,
                radius_km=radius_km,
            )
        written = time.perf_counter() - started
        with unit_of_work() as session:
            analyze_reserve(session)
    elapsed = time.perf_counter() - started
    console.print(
        f"seeded {summary.volunteers:,} volunteers ({summary.credentials:,} credentials, "
        f"{summary.windows:,} availability windows) {where} in {elapsed:.1f} s "
        f"({summary.volunteers / elapsed:,.0f} volunteers/s; {written:.1f} s writing, "
        f"{elapsed - written:.1f} s ANALYZE)",
        highlight=False,
    )
