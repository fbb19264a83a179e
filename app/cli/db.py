"""`nvr db ...`: migrations."""

from pathlib import Path

import typer
from alembic import command
from alembic.config import Config

from app.settings import get_settings

app = typer.Typer(help="Database migrations.", no_args_is_help=True)

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    """Alembic configured for `url` (default DATABASE_URL), wherever the command runs from."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
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
