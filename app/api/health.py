"""/healthz: whether the database and Redis answer, for a load balancer or an operator."""

from typing import Literal

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.health import database_problem, redis_problem

log = structlog.get_logger(__name__)

State = Literal["ok", "unavailable"]


class HealthRead(BaseModel):
    """Overall state and the state of each dependency; never an address, a secret or an error text."""

    status: State
    checks: dict[Literal["database", "redis"], State]


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
