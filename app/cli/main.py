"""Entry point of the `nvr` command: the composition root, the one place that starts workers."""

import typer

from app.cli import areas, db, demo, seed, simulator, token, volunteers

cli = typer.Typer(help="nvr: National Volunteer Reserve operator tools.", no_args_is_help=True)
cli.add_typer(db.app, name="db")
cli.add_typer(token.app, name="token")
cli.add_typer(areas.app, name="areas")
cli.add_typer(volunteers.app, name="volunteers")
cli.command("seed")(seed.seed)
cli.command()(simulator.simulator)
cli.command()(demo.demo)


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
        # Its access log would show query strings; app.access_log writes one without them.
        access_log=False,
    )


@cli.command()
def worker(
    processes: int = typer.Option(1, min=1, max=64, help="worker processes"),
    burst: bool = typer.Option(False, help="exit when the queues are empty"),
    cron: bool = typer.Option(True, help="also run the reconciler every few seconds"),
) -> None:
    """Run RQ workers that send SMS and run wave timers (with RQ's scheduler)."""
    from workers.main import run

    run(processes=processes, burst=burst, cron=cron)


def main() -> None:
    """Run the CLI."""
    cli()


if __name__ == "__main__":
    main()
