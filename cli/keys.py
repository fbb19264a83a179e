"""`nvr keys ...`: the passport's signing keys."""

from datetime import UTC, datetime

import typer

from app.badge import keys
from app.db import unit_of_work

app = typer.Typer(help="The keys that sign volunteers' passport credentials.", no_args_is_help=True)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


@app.command("rotate")
def rotate() -> None:
    """Make a new current signing key; older keys stay published, so what they signed still verifies."""
    with unit_of_work() as session:
        key = keys.rotate(session)
        kid = key.kid
    typer.echo(f"new current key {kid}; older keys stay published at /.well-known/jwks.json")


@app.command("list")
def list_() -> None:
    """Every key: its kid, when it was made and retired (never a private part)."""
    with unit_of_work() as session:
        rows = [(k.kid, _when(k.created_at), _when(k.retired_at)) for k in keys.list_keys(session)]
    for kid, created, retired in [("kid", "created", "retired"), *rows]:
        typer.echo(f"{kid:<26}  {created:<20}  {retired}")
