"""A scratch database for a benchmark, rebuilt from the migrations so numbers are comparable."""

import os

from sqlalchemy.engine import make_url

from app.schema import rebuild_database

BASE_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/nvr")


def fresh_database(name: str) -> str:
    """Create (or empty) database `name`, migrate it, and return its URL."""
    url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    rebuild_database(url)
    return url


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
    return ordered[index]
