"""`nvr simulator`: the project's Twilio-compatible local SMS server."""

import typer

from app.settings import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN, get_settings
from simulator.config import SimulatorConfig
from simulator.server import serve


def simulator_config(
    *, latency_ms: int = 0, failure_rate: float = 0.0, fail: list[str] | None = None, seed: int | None = None
) -> SimulatorConfig:
    """Simulator settings matching this process's Twilio settings, so signatures and auth agree."""
    settings = get_settings()
    fail_numbers: dict[str, int] = {}
    for item in fail or []:
        number, _, code = item.partition("=")
        if not code.isdigit():
            raise typer.BadParameter(f"--fail takes NUMBER=CODE, e.g. +447911123456=30006 (got {item!r})")
        fail_numbers[number.strip()] = int(code)
    return SimulatorConfig(
        account_sid=settings.twilio_account_sid or SIMULATOR_ACCOUNT_SID,
        auth_token=settings.twilio_auth_token or SIMULATOR_AUTH_TOKEN,
        webhook_base_url=settings.public_base_url,
        phone_number=settings.default_from_number or "+447700900000",
        sender_numbers=tuple(settings.twilio_sender_numbers),
        messaging_service_sid=settings.twilio_messaging_service_sid or None,
        latency_ms=latency_ms,
        transient_failure_rate=failure_rate,
        fail_numbers=fail_numbers,
        seed=seed,
    )


def simulator(
    host: str = "127.0.0.1",
    port: int = 8765,
    latency_ms: int = typer.Option(50, min=0, help="delay before each status callback"),
    failure_rate: float = typer.Option(0.0, min=0.0, max=1.0, help="share of sends refused with 429/503"),
    fail: list[str] = typer.Option([], help="NUMBER=CODE: make one number fail, e.g. +447911123456=30006"),
    seed: int | None = typer.Option(None, help="seed for the failure dice"),
) -> None:
    """Serve the Twilio-compatible SMS simulator (conversations at /)."""
    try:
        config = simulator_config(latency_ms=latency_ms, failure_rate=failure_rate, fail=fail, seed=seed)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"SMS simulator on http://{host}:{port} posting webhooks to {config.webhook_base_url}")
    serve(config, host, port)
