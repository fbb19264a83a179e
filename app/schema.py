"""Migrate and rebuild the database: the one place that knows where the Alembic migrations live."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import migrations
from app.settings import get_settings

MIGRATIONS = Path(migrations.__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """Alembic configured for `url` (default DATABASE_URL), from a checkout or an installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return config


def upgrade(revision: str = "head", *, url: str | None = None) -> None:
    """Apply migrations up to `revision` on `url` (default DATABASE_URL)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(revision: str, *, url: str | None = None) -> None:
    """Revert migrations down to `revision` on `url` (default DATABASE_URL)."""
    command.downgrade(alembic_config(url), revision)


def check(*, url: str | None = None) -> None:
    """Fail when the models and the migrations disagree."""
    command.check(alembic_config(url))


def rebuild_database(url: str) -> None:
    """Create the database at `url` if missing, empty it, and migrate it from scratch (demo, benchmarks)."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": parsed.database}):
            conn.execute(text(f'create database "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url=url)
