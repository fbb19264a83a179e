"""`nvr token ...`: API tokens."""

import typer

from app.auth.models import Role
from app.auth.service import create_token
from app.db import unit_of_work
from app.errors import DomainError

app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)


@app.command("create")
def create(
    role: Role = typer.Option(..., help="admin, coordinator or lrf_viewer"),
    name: str = typer.Option(..., help="who or what holds the token"),
    area: str | None = typer.Option(None, help="resilience area code (lrf_viewer only)"),
) -> None:
    """Create a token; it is printed once, as the last line."""
    try:
        with unit_of_work() as session:
            token = create_token(session, name=name, role=role, area_code=area)
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"created {role.value} token for {name!r}; store it now, it is not shown again:")
    typer.echo(token)
