"""Replies as people send them, through the simulator and real workers: "Yes, on my way" is counted."""

import subprocess
from typing import Any

import httpx
from sqlalchemy.orm import Session

from simulator.client import SimulatorClient
from tests.app.reserve import add_volunteer, incident_body
from tests.e2e.conftest import wait_for


def outbound_to(simulator: SimulatorClient, number: str) -> list[dict[str, Any]]:
    return [m for m in simulator.messages(number) if m["direction"] == "outbound-api"]


def test_yes_on_my_way_through_the_simulator_is_counted_and_checked_in(
    live: Session, api: httpx.Client, simulator: SimulatorClient, worker: subprocess.Popen[bytes]
) -> None:
    volunteer = add_volunteer(live, km=1)
    live.commit()
    phone = volunteer.phone or ""
    response = api.post("/api/v1/incidents", json=incident_body(needs=[{"skill": "first_aid", "count": 1}]))
    assert response.status_code == 201, response.text
    incident_id = response.json()["id"]
    wait_for(lambda: outbound_to(simulator, phone))
    answer = simulator.inbound(phone, "Yes, on my way")
    assert answer.status_code == 200, answer.text

    def need() -> dict[str, Any]:
        return dict(api.get(f"/api/v1/incidents/{incident_id}").json()["needs"][0])

    progress = wait_for(lambda: (lambda n: n if n["filled"] else None)(need()))
    assert progress["accepted"] == 1
    wait_for(lambda: any("confirmed" in m["body"] for m in outbound_to(simulator, phone)))
    [callout] = api.get(f"/api/v1/incidents/{incident_id}/callouts").json()
    assert callout["status"] == "accepted"
    assert api.get("/api/v1/inbox/count", params={"incident_id": incident_id}).json() == {"open": 0}
