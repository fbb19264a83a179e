"""A scratch database for a benchmark, rebuilt from the migrations so numbers are comparable."""

import os

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.cli.db import alembic_config

BASE_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/nvr")


def fresh_database(name: str) -> str:
    """Create (or empty) database `name`, migrate it, and return its URL."""
    url = make_url(BASE_URL).set(database=name)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": name}):
            conn.execute(text(f'create database "{name}"'))
    admin.dispose()
    rendered = url.render_as_string(hide_password=False)
    engine = create_engine(rendered)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    command.upgrade(alembic_config(rendered), "head")
    return rendered


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
    return ordered[index]
