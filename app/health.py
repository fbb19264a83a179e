"""Is each dependency reachable? For /healthz (app/api/health.py) and for commands that need them."""

from functools import lru_cache

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.db import get_engine
from app.settings import get_settings

PROBE_TIMEOUT_S = 2.0


def safe_url(url: str) -> str:
    """A database or Redis URL with its password hidden, fit for an operator's error message."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def database_problem(url: str | None = None) -> str | None:
    """Why the database cannot be used right now, or None when it answers."""
    try:
        with (get_engine(url) if url else get_engine()).connect() as conn:
            conn.execute(text("select 1"))
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None) or exc
        return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
    return None


@lru_cache
def _probe_client(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT_S, socket_timeout=PROBE_TIMEOUT_S)


def redis_problem(url: str | None = None) -> str | None:
    """Why Redis cannot be used right now, or None when it answers a PING."""
    try:
        _probe_client(url or get_settings().redis_url).ping()
    except (RedisError, OSError, ValueError) as exc:
        return str(exc) or type(exc).__name__
    return None
