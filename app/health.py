"""Is each dependency reachable? For /healthz and for commands that refuse to start without them."""

from functools import lru_cache
from typing import Literal

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.db import get_engine
from app.settings import get_settings

log = structlog.get_logger(__name__)
PROBE_TIMEOUT_S = 2.0

State = Literal["ok", "unavailable"]


class HealthRead(BaseModel):
    """Overall state and the state of each dependency; never an address, a secret or an error text."""

    status: State
    checks: dict[Literal["database", "redis"], State]


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


router = APIRouter(tags=["ops"])


@router.get(
    "/healthz",
    response_model=HealthRead,
    responses={503: {"model": HealthRead, "description": "a dependency is down"}},
)
def healthz() -> JSONResponse:
    """The state of the database and of Redis; 503 when either is down, so a balancer or operator sees it."""
    problems = {"database": database_problem(), "redis": redis_problem()}
    for dependency, problem in problems.items():
        if problem is not None:
            log.warning("health.unavailable", dependency=dependency, error=problem)
    checks: dict[Literal["database", "redis"], State] = {
        "database": "ok" if problems["database"] is None else "unavailable",
        "redis": "ok" if problems["redis"] is None else "unavailable",
    }
    healthy = all(state == "ok" for state in checks.values())
    body = HealthRead(status="ok" if healthy else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)
