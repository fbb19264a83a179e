"""Entry point of the `nvr` command: the composition root, the one place that starts workers."""

import os
import sys

import typer
from alembic.util import CommandError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

from app.db import get_engine
from app.health import database_problem, redis_problem, safe_url
from app.settings import get_settings
from cli import (
    activities,
    areas,
    db,
    demo,
    dev,
    incidents,
    keys,
    seed,
    simulator,
    token,
    volunteers,
    warnings,
)

cli = typer.Typer(help="nvr: National Volunteer Reserve operator tools.", no_args_is_help=True)
cli.add_typer(db.app, name="db")
cli.add_typer(token.app, name="token")
cli.add_typer(keys.app, name="keys")
cli.add_typer(areas.app, name="areas")
cli.add_typer(volunteers.app, name="volunteers")
cli.add_typer(activities.app, name="activities")
cli.add_typer(incidents.app, name="incidents")
cli.add_typer(warnings.app, name="warnings")
cli.command("seed")(seed.seed)
cli.command()(simulator.simulator)
cli.command()(demo.demo)
cli.command()(dev.dev)


@cli.command()
def api(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    uvicorn.run(
        "app.api:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        # Its access log would show query strings; app.api.access_log writes one without them.
        access_log=False,
    )


@cli.command()
def worker(
    processes: int = typer.Option(1, min=1, max=64, help="worker processes"),
    burst: bool = typer.Option(False, help="exit when the queues are empty"),
    cron: bool = typer.Option(True, help="also run the reconciler every few seconds"),
    metrics_port: int | None = typer.Option(
        None, min=1, max=65535, help="serve these processes' Prometheus metrics on this port"
    ),
) -> None:
    """Run RQ workers that send SMS and run wave timers (with RQ's scheduler)."""
    from workers.main import run

    shared = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    if metrics_port is not None and (processes > 1 or cron) and not shared:
        typer.echo(
            "error: --metrics-port with several processes (the reconciler is one) needs "
            "PROMETHEUS_MULTIPROC_DIR set to an empty directory, so their metrics can be added up",
            err=True,
        )
        raise typer.Exit(2)
    settings = get_settings()
    for what, url, problem in (
        ("Redis", settings.redis_url, redis_problem),
        ("the database", settings.database_url, database_problem),
    ):
        reason = problem()
        if reason is not None:
            typer.echo(f"error: cannot reach {what} at {safe_url(url)}: {reason}", err=True)
            raise typer.Exit(1)
    # The probe's pooled connection must not be inherited by the forked workers: they would share it.
    get_engine().dispose()
    raise typer.Exit(run(processes=processes, burst=burst, cron=cron, metrics_port=metrics_port))


def _first_line(exc: BaseException) -> str:
    """The first line of what the driver said, without SQLAlchemy's statement and background link."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def main() -> None:
    """Run the CLI; an unreachable or misconfigured database or Redis is one line and exit 1, not a trace."""
    try:
        cli()
    except (OperationalError, InterfaceError) as exc:
        sys.exit(f"error: cannot use the database ({_first_line(exc)}); check DATABASE_URL")
    except (ArgumentError, NoSuchModuleError) as exc:
        sys.exit(f"error: DATABASE_URL is not a usable database URL: {_first_line(exc)}")
    except (RedisConnectionError, RedisTimeoutError) as exc:
        sys.exit(f"error: cannot reach Redis ({_first_line(exc)}); check REDIS_URL")
    except CommandError as exc:
        sys.exit(f"error: {_first_line(exc)}")


if __name__ == "__main__":
    main()
