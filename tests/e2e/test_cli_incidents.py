"""`nvr incidents ...` as an operator runs it: a real process speaking to the running API with a token."""

import json
import subprocess
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import create_token
from app.message.models import Message, MessageKind, MessageStatus
from simulator.client import SimulatorClient
from tests.app.reserve import add_volunteer
from tests.conftest import API_PORT, free_port
from tests.e2e.conftest import wait_for
from tests.e2e.processes import Process, nvr

API_URL = f"http://127.0.0.1:{API_PORT}"
WIDE = {"COLUMNS": "200"}  # rich wraps tables to the terminal; a test reads whole rows


def coordinator_env(live: Session) -> dict[str, str]:
    token = create_token(live, name="cli operator", role=Role.coordinator)
    live.commit()
    return {"NVR_API_URL": API_URL, "NVR_TOKEN": token, **WIDE}


def declared_id(output: str) -> int:
    line = next(line for line in output.splitlines() if line.startswith("declared incident "))
    return int(line.split()[2].rstrip(":"))


def test_declare_list_show_and_close(live: Session) -> None:
    add_volunteer(live, km=1)
    live.commit()
    env = coordinator_env(live)
    declared = nvr(
        "incidents", "declare", "--kind", "flood", "--place", "Carlisle", "--need", "first_aid=1",
        "--exercise", "--rendezvous", "Civic Centre", "--title", "River Eden flooding", **env,
    )  # fmt: skip
    assert declared.returncode == 0, declared.stderr
    incident_id = declared_id(declared.stdout)
    assert "River Eden flooding (Carlisle) (exercise)" in declared.stdout
    assert "first_aid" in declared.stdout

    listed = nvr("incidents", "list", **env)
    assert listed.returncode == 0, listed.stderr
    assert "River Eden flooding" in listed.stdout and "0 filled, 1 to go, 1 not answered yet" in listed.stdout

    shown = nvr("incidents", "show", str(incident_id), **env)
    assert shown.returncode == 0, shown.stderr
    assert f"incident {incident_id}: River Eden flooding - flood at Carlisle" in shown.stdout
    assert "rendezvous Civic Centre" in shown.stdout

    closed = nvr("incidents", "close", str(incident_id), "--reason", "the river has gone down", **env)
    assert closed.returncode == 0, closed.stderr
    assert nvr("incidents", "list", "--status", "closed", **env).stdout.count("River Eden flooding") == 1


def test_an_area_file_and_a_grid_reference_are_places_too(live: Session, tmp_path: Path) -> None:
    env = coordinator_env(live)
    area = tmp_path / "area.geojson"
    ring = [[-2.95, 54.88], [-2.90, 54.88], [-2.90, 54.91], [-2.95, 54.91], [-2.95, 54.88]]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    area.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": polygon}))
    by_area = nvr(
        "incidents", "declare", "--kind", "storm", "--area", str(area), "--need", "first_aid=1", **env
    )
    assert by_area.returncode == 0, by_area.stderr
    by_grid = nvr(
        "incidents", "declare", "--kind", "search", "--place", "NO 006 988", "--need", "first_aid=1", **env
    )
    assert by_grid.returncode == 0, by_grid.stderr
    assert "(NO 006 988)" in by_grid.stdout  # the Cairngorms: no place within 15 km


def test_failures_are_one_line_and_a_nonzero_exit(live: Session) -> None:
    env = coordinator_env(live)
    outside = nvr(
        "incidents",
        "declare",
        "--kind",
        "flood",
        "--lon",
        "-74.0",
        "--lat",
        "40.7",
        "--need",
        "first_aid=1",
        **env,
    )
    assert outside.returncode == 1
    assert (
        outside.stderr.count("\n") == 1
        and "422" in outside.stderr
        and "outside the United Kingdom" in outside.stderr
    )

    wrong_token = nvr("incidents", "list", **{**env, "NVR_TOKEN": "not-a-token"})
    assert wrong_token.returncode == 1 and wrong_token.stderr.startswith("error: 401")

    unreachable = nvr("incidents", "list", **{**env, "NVR_API_URL": f"http://127.0.0.1:{free_port()}"})
    assert unreachable.returncode == 1 and "cannot reach the API" in unreachable.stderr
    assert unreachable.stderr.count("\n") == 1

    missing = nvr("incidents", "show", "999999", **env)
    assert missing.returncode == 1 and "404" in missing.stderr


def test_watch_ends_when_the_incident_fills(
    live: Session, simulator: SimulatorClient, worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    person = add_volunteer(live, km=1)
    live.commit()
    env = coordinator_env(live)
    declared = nvr(
        "incidents", "declare", "--kind", "flood", "--place", "Carlisle", "--need", "first_aid=1", **env
    )
    assert declared.returncode == 0, declared.stderr
    incident_id = declared_id(declared.stdout)
    watching = Process(tmp_path / "watch.log", "incidents", "watch", str(incident_id), **env)
    try:
        wait_for(
            lambda: live.scalar(
                select(Message.id).where(
                    Message.kind == MessageKind.callup, Message.status == MessageStatus.delivered
                )
            ),
            every_s=0.2,
        )
        time.sleep(1.5)  # the board has been drawn at least once while the need is open
        assert watching.popen.poll() is None, watching.output()
        assert simulator.inbound(person.phone or "", "YES").status_code == 200
        assert watching.popen.wait(timeout=30) == 0, watching.output()
    finally:
        watching.stop()
    assert f"incident {incident_id}: every need is filled" in watching.output()
