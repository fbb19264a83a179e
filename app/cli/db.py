"""`nvr db ...`: migrations."""

from pathlib import Path

import typer
from alembic import command
from alembic.config import Config

import migrations
from app.settings import get_settings

app = typer.Typer(help="Database migrations.", no_args_is_help=True)

MIGRATIONS = Path(migrations.__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """Alembic configured for `url` (default DATABASE_URL), from a checkout or an installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return config


@app.command()
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    command.upgrade(alembic_config(), revision)
    typer.echo(f"database at {revision}")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="e.g. base, or -1")) -> None:
    """Revert migrations down to REVISION."""
    command.downgrade(alembic_config(), revision)
    typer.echo(f"database at {revision}")


@app.command()
def check() -> None:
    """Fail when the models and the migrations disagree."""
    command.check(alembic_config())
