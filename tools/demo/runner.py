"""Running the demo mobilisation: its own database, simulator, API and worker, then a flood.

Everything runs on this machine against the SMS simulator, on a database of its own (`nvr_demo`) that is
rebuilt on every run, so the demo never touches an operator's reserve.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.incident.models import Incident, Need
from app.message.models import Direction, Message, MessageKind, MessageStatus
from geo.places import Town, find_town
from simulator.client import SimulatorClient
from tools.board import board_table
from tools.demo.joiner import Joined, join_through_the_page, verify_claim
from tools.demo.volunteers import SimulatedVolunteers, Temperament

DEMO_DATABASE = "nvr_demo"
DEMO_REDIS_DB = 14
JOINER_PHONE = (
    "+447911123456"  # outside the seeded range (tools/reserve.py); the demo meets only the simulator
)
JOINER_NAME = "Demo Joiner"
# The joiner's organisation, one of the synthetic reserve's (tools/reserve.py ORGANISATIONS): its
# verifier verifies their claimed skill before the flood.
JOINER_ORGANISATION = "British Red Cross"


@dataclass
class DemoConfig:
    """The embedded defaults of the main job."""

    town: str = "Carlisle"
    volunteers: int = 3000
    radius_km: float = 25.0
    needs: dict[str, int] = field(
        default_factory=lambda: {"flood_rescue": 6, "first_aid": 8, "driver_4x4": 4, "sandbagging": 10}
    )
    seed: int = 2026
    timeout_s: float = 300.0
    wave_timeout_s: int = 20
    rate_per_second: float = 10.0
    temperament: Temperament = field(default_factory=Temperament)


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_environment(
    *,
    database: str,
    redis_db: int,
    rate_per_second: float,
    api_port: int | None = None,
    sim_port: int | None = None,
) -> dict[str, str]:
    """Settings for a local stack (demo, benchmarks, `nvr dev`): the simulator as Twilio, wired both ways.

    The API and the simulator share PUBLIC_BASE_URL and the Twilio credentials, so signatures agree;
    ports not given are free ones.
    """
    from app.settings import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN

    base = make_url(os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/nvr"))
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    api_port, sim_port = api_port or free_port(), sim_port or free_port()
    return {
        "ENVIRONMENT": "development",
        "DATABASE_URL": base.set(database=database).render_as_string(hide_password=False),
        "REDIS_URL": f"{redis}/{redis_db}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
        "SMS_PROVIDER": "twilio",
        "TWILIO_API_BASE": f"http://127.0.0.1:{sim_port}",
        "TWILIO_ACCOUNT_SID": SIMULATOR_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": SIMULATOR_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+447700900000",
        "SMS_RATE_PER_SECOND": str(rate_per_second),
        "NVR_API_PORT": str(api_port),
        "NVR_SIMULATOR_PORT": str(sim_port),
        "LOG_LEVEL": "WARNING",
    }


def use_environment(env: dict[str, str]) -> None:
    """Point this process at the demo's settings, dropping anything cached from before."""
    from app.db import get_engine, get_sessionmaker
    from app.message.sender import get_sender
    from app.queue import get_redis
    from app.settings import get_settings

    os.environ.update(env)
    for cached in (get_settings, get_engine, get_sessionmaker, get_redis, get_sender):
        cached.cache_clear()


@contextmanager
def services(
    env: dict[str, str], *, workers: int = 2, latency_ms: int = 300, api_workers: int = 1
) -> Iterator[None]:
    """The simulator, the API (`api_workers` processes) and `workers` worker processes as children,
    stopped on the way out."""
    nvr = [sys.executable, "-m", "cli.main"]
    commands = [
        [
            *nvr,
            "simulator",
            "--port",
            env["NVR_SIMULATOR_PORT"],
            "--latency-ms",
            str(latency_ms),
            "--seed",
            "1",
        ],
        [*nvr, "api", "--workers", str(api_workers), "--port", env["NVR_API_PORT"]],
        [*nvr, "worker", "--processes", str(workers)],
    ]
    children = [
        subprocess.Popen(  # noqa: S603 (our own command line)
            command,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for command in commands
    ]
    try:
        wait_healthy(f"{env['TWILIO_API_BASE']}/simulator/health")
        wait_healthy(f"{env['PUBLIC_BASE_URL']}/healthz")
        yield
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, 15)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, 9)


def wait_healthy(url: str, timeout_s: float = 30.0) -> None:
    """Wait until a service answers 200 on its health URL."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy in {timeout_s:.0f} s")


def progress_table(incident: dict[str, Any], elapsed_s: float, sent: int) -> Table:
    """One frame of the live view."""
    title = f"{incident['title']} ({incident['place']}) - {elapsed_s:5.1f} s - {sent} SMS sent"
    return board_table(incident, title=escape(title))


def summary(incident_id: int) -> dict[str, Any]:
    """Figures of the finished mobilisation, read from the database."""
    from app.db import get_sessionmaker

    with get_sessionmaker()() as session:
        incident = session.get_one(Incident, incident_id)
        first_sms = session.scalar(
            select(func.min(Message.sent_at)).where(
                Message.incident_id == incident_id, Message.kind == MessageKind.callup
            )
        )
        needs = session.scalars(select(Need).where(Need.incident_id == incident_id).order_by(Need.id)).all()
        outbound = session.execute(
            select(Message.kind, func.count())
            .where(Message.direction == Direction.outbound, Message.status != MessageStatus.cancelled)
            .group_by(Message.kind)
        ).all()
        return {
            "first_sms_s": _seconds(incident.created_at, first_sms),
            "fill_s": {n.skill_code: _seconds(incident.created_at, n.filled_at) for n in needs},
            "messages": {kind.value: n for kind, n in outbound},
        }


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


def unsent() -> int:
    """Outbound messages not yet handed to the simulator."""
    from app.db import get_sessionmaker

    with get_sessionmaker()() as session:
        return (
            session.scalar(
                select(func.count()).where(
                    Message.direction == Direction.outbound,
                    Message.status.in_((MessageStatus.pending, MessageStatus.sending)),
                )
            )
            or 0
        )


def run_demo(config: DemoConfig, console: Console) -> int:
    """The whole mobilisation; returns the process exit code (0 when every need filled)."""
    from app.area.service import area_around
    from app.auth.models import Role
    from app.auth.service import create_token
    from app.db import unit_of_work
    from app.logs import configure_logging
    from app.map.capacity import refresh_capacity
    from app.queue import get_redis
    from app.schema import rebuild_database
    from tools.reserve import seed_near_town

    env = local_environment(
        database=DEMO_DATABASE, redis_db=DEMO_REDIS_DB, rate_per_second=config.rate_per_second
    )
    use_environment(env)
    configure_logging()
    console.print(f"[bold]nvr demo[/]: a flood at {config.town}, on database {DEMO_DATABASE}")
    rebuild_database(env["DATABASE_URL"])
    get_redis().flushdb()
    started = time.monotonic()
    town = find_town(config.town)
    area_code = f"DEMO-{town.name.upper().replace(' ', '-')}"
    with unit_of_work() as session:
        seeded = seed_near_town(
            session, town=config.town, n=config.volunteers, radius_km=config.radius_km, seed=config.seed
        )
        token = create_token(session, name="demo coordinator", role=Role.coordinator)
        # The demo brings its own forum area, so the map works without the official boundaries.
        area_around(
            session,
            code=area_code,
            name=f"{town.name} demo forum",
            lon=town.lon,
            lat=town.lat,
            radius_km=config.radius_km,
            actor="demo",
        )
        viewer = create_token(session, name="demo forum viewer", role=Role.lrf_viewer, area_code=area_code)
        verifier = create_token(
            session, name="demo verifier", role=Role.org_verifier, organisation=JOINER_ORGANISATION
        )
    with unit_of_work() as session:
        refresh_capacity(session)
    console.print(
        f"seeded {seeded:,} volunteers within {config.radius_km:.0f} km of {config.town} "
        f"in {time.monotonic() - started:.1f} s"
    )
    with services(env):
        console.print(f"API {env['PUBLIC_BASE_URL']}/docs  ·  SMS simulator {env['TWILIO_API_BASE']}/")
        console.print(f"map {env['PUBLIC_BASE_URL']}/map  ·  forum viewer token {viewer}")
        console.print(f"console {env['PUBLIC_BASE_URL']}/console  ·  coordinator token {token}")
        joined = _join(config, env, town, console)
        if joined is None or not _verify_joiner(config, env, verifier, console):
            return 1
        crowd = SimulatedVolunteers(env["TWILIO_API_BASE"], temperament=config.temperament, seed=config.seed)
        crowd.start()
        try:
            outcome = _mobilise(config, env, token, town, console, crowd)
        finally:
            crowd.stop()
        if not _was_called(joined.phone):
            console.print("[red]the volunteer who joined at /join was not called up[/]")
            return 1
        console.print("the volunteer who joined at /join was called up with everyone else")
        return outcome


def _join(config: DemoConfig, env: dict[str, str], town: Town, console: Console) -> Joined | None:
    """A member of the public joins at /join with the first skill the flood needs (flood rescue, which
    needs verification), as a member of JOINER_ORGANISATION, at the town centre."""
    with SimulatorClient(env["TWILIO_API_BASE"]) as simulator:
        try:
            joined = join_through_the_page(
                env["PUBLIC_BASE_URL"],
                simulator,
                name=JOINER_NAME,
                phone=JOINER_PHONE,
                town=town.name,
                skill=next(iter(config.needs)),
                organisation=JOINER_ORGANISATION,
            )
        except RuntimeError as exc:
            console.print(f"[red]joining at /join failed[/]: {exc}")
            return None
    console.print(
        f"a member of the public joined at /join: code by SMS in {joined.code_s:.1f} s, "
        f"on the reserve {joined.total_s:.1f} s after sending the form"
    )
    return joined


def _verify_joiner(config: DemoConfig, env: dict[str, str], verifier: str, console: Console) -> bool:
    """The joiner's organisation verifies the skill they claimed (it needs verification to count)."""
    skill = next(iter(config.needs))
    try:
        verify_claim(env["PUBLIC_BASE_URL"], verifier, name=JOINER_NAME, skill=skill)
    except (RuntimeError, httpx.HTTPError) as exc:
        console.print(f"[red]verifying the joiner's claim failed[/]: {exc}")
        return False
    console.print(
        f"{JOINER_ORGANISATION}'s verifier verified the joiner's {skill} from its queue "
        f"(verifier's page: {env['PUBLIC_BASE_URL']}/verify, token {verifier})"
    )
    return True


def _was_called(phone: str) -> bool:
    from app.callout.models import Callout
    from app.db import get_sessionmaker
    from app.volunteer.models import Volunteer

    with get_sessionmaker()() as session:
        called = session.scalar(
            select(func.count()).select_from(Callout).join(Volunteer).where(Volunteer.phone == phone)
        )
    return bool(called)


def _mobilise(
    config: DemoConfig,
    env: dict[str, str],
    token: str,
    town: Town,
    console: Console,
    crowd: SimulatedVolunteers,
) -> int:
    api = httpx.Client(
        base_url=env["PUBLIC_BASE_URL"],
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        trust_env=False,
    )
    declared = api.post(
        "/api/v1/incidents",
        json={
            "title": f"Flooding at {town.name}",
            "kind": "flood",
            "area": {"type": "Point", "coordinates": [town.lon, town.lat]},
            "radius_km": 8,
            "needs": [{"skill": s, "count": c} for s, c in config.needs.items()],
            "exercise": True,
            "wave_timeout_s": config.wave_timeout_s,
            "rendezvous": {
                "point": {"type": "Point", "coordinates": [town.lon, town.lat]},
                "text": "Civic Centre",
            },
        },
    )
    if declared.status_code != 201:
        console.print(f"[red]declaring the incident failed[/]: {declared.status_code} {declared.text}")
        return 1
    incident = declared.json()
    clock = time.monotonic()
    simulator = SimulatorClient(env["TWILIO_API_BASE"])
    filled = False
    left_out: dict[str, int] = {}  # per need: the most people left out while it was open, not yet verified
    with Live(console=console, refresh_per_second=4) as live:
        while time.monotonic() - clock < config.timeout_s:
            incident = api.get(f"/api/v1/incidents/{incident['id']}").json()
            for n in incident["needs"]:
                left_out[n["skill"]] = max(left_out.get(n["skill"], 0), n.get("unverified") or 0)
            sent = sum(1 for m in simulator.messages() if m["direction"] != "inbound")
            live.update(progress_table(incident, time.monotonic() - clock, sent))
            filled = all(n["filled"] and n["pending"] == 0 for n in incident["needs"])
            if filled and unsent() == 0:
                break
            time.sleep(0.5)
    simulator.close()
    api.close()
    figures = summary(incident["id"]) | {"left_out": left_out}
    _print_summary(console, figures, crowd)
    # The report needs the coordinator token: the console's Report button opens it with it.
    console.print(f"report {env['PUBLIC_BASE_URL']}/api/v1/incidents/{incident['id']}/report.html")
    if not filled:
        console.print(f"[red]not every need filled within {config.timeout_s:.0f} s[/]")
        return 1
    console.print("[green]every need filled[/]")
    return 0


def _print_summary(console: Console, figures: dict[str, Any], crowd: SimulatedVolunteers) -> None:
    table = Table(title="Summary")
    table.add_column("measure")
    table.add_column("value", justify="right")
    first = figures["first_sms_s"]
    table.add_row("time to first SMS", f"{first:.2f} s" if first is not None else "-")
    for skill, seconds in figures["fill_s"].items():
        table.add_row(f"time to fill {skill}", f"{seconds:.1f} s" if seconds is not None else "not filled")
    for skill, people in figures["left_out"].items():
        if people:
            table.add_row(f"left out of {skill}: claim not yet verified", str(people))
    messages = figures["messages"]
    table.add_row("messages sent", str(sum(messages.values())))
    table.add_row("call-ups", str(messages.get("callup", 0)))
    table.add_row("confirmations", str(messages.get("confirmation", 0)))
    table.add_row("stand-downs", str(messages.get("standdown", 0)))
    table.add_row(
        "volunteers who said yes / no / nothing",
        f"{crowd.answers.yes} / {crowd.answers.no} / {crowd.answers.silent}",
    )
    console.print(table)
