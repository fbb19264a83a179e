"""`nvr dev`: the API, a worker and the SMS simulator on this machine, wired to each other, until Ctrl-C.

The wiring (one PUBLIC_BASE_URL and one set of Twilio credentials for both sides, the simulator as
Twilio's API) is the demo's, tools/demo/runner.py; unlike the demo, this keeps the operator's own
database and Redis (DATABASE_URL, REDIS_URL) and rebuilds nothing.
"""

import signal
import socket
import threading
from types import FrameType
from urllib.parse import urlparse

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from app import schema
from app.auth.models import Role
from app.auth.service import create_token
from app.db import unit_of_work
from app.settings import get_settings
from tools.demo.runner import local_environment, services, use_environment


def _taken(port: int) -> bool:
    """Whether something already listens on this local port (a second `nvr dev`, say)."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def dev(
    api_port: int = typer.Option(8000, help="the API's port (console, map, /docs)"),
    simulator_port: int = typer.Option(8765, help="the SMS simulator's port (its conversations at /)"),
    latency_ms: int = typer.Option(300, min=0, help="the simulator's delay before each delivery receipt"),
) -> None:
    """Start the API, one worker and the SMS simulator, correctly wired, and print where they are."""
    for name, port in (("API", api_port), ("simulator", simulator_port)):
        if _taken(port):
            option = f"--{name.lower()}-port"
            typer.echo(f"error: port {port} (the {name}) is taken; choose another with {option}", err=True)
            raise typer.Exit(1)
    settings = get_settings()
    redis_db = urlparse(settings.redis_url).path.strip("/") or "0"
    env = local_environment(
        database=make_url(settings.database_url).database or "nvr",
        redis_db=int(redis_db),
        rate_per_second=settings.sms_rate_per_second,
        api_port=api_port,
        sim_port=simulator_port,
    )
    use_environment(env)
    schema.upgrade("head")
    with unit_of_work() as session:
        token = create_token(session, name="nvr dev coordinator", role=Role.coordinator, expires_in_days=1)
    stop = threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    console = Console()
    with services(env, workers=1, latency_ms=latency_ms):
        api = env["PUBLIC_BASE_URL"]
        console.print(f"console    {api}/console")
        console.print(f"map        {api}/map")
        console.print(f"API docs   {api}/docs")
        console.print(f"simulator  {env['TWILIO_API_BASE']}/  (answer as any volunteer there)")
        console.print("coordinator token (valid for a day; paste it into the console or export NVR_TOKEN):")
        console.print(token, markup=False, highlight=False)
        console.print("[dim]Ctrl-C stops all three.[/]")
        stop.wait()
    console.print("stopped")
