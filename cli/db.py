"""`nvr db ...`: migrations."""

import typer

from app import schema

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    schema.upgrade(revision)
    typer.echo(f"database at {revision}")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="e.g. base, or -1")) -> None:
    """Revert migrations down to REVISION."""
    schema.downgrade(revision)
    typer.echo(f"database at {revision}")


@app.command()
def check() -> None:
    """Fail when the models and the migrations disagree."""
    schema.check()
