"""A volunteer looks after themselves by SMS, through the simulator and real workers: PAUSE 7D keeps
them out of a call-up, BACK puts them back, STATUS is answered, LEAVE and its code erase them (the last
text still reaches them), a stranger is answered too."""

import subprocess
from typing import Any

import httpx
from sqlalchemy.orm import Session

from simulator.client import SimulatorClient
from tests.app.reserve import add_volunteer, incident_body, next_phone
from tests.e2e.conftest import wait_for
from tests.e2e.test_replies import outbound_to


def answered(simulator: SimulatorClient, phone: str, body: str, expected: str) -> str:
    """Text `body` from `phone` and wait for the answer that contains `expected`."""
    before = len(outbound_to(simulator, phone))
    response = simulator.inbound(phone, body)
    assert response.status_code == 200, response.text
    return str(
        wait_for(
            lambda: next(
                (m["body"] for m in outbound_to(simulator, phone)[before:] if expected in m["body"]), None
            )
        )
    )


def declare(api: httpx.Client) -> int:
    response = api.post("/api/v1/incidents", json=incident_body(needs=[{"skill": "first_aid", "count": 1}]))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def callouts(api: httpx.Client, incident_id: int) -> list[dict[str, Any]]:
    return list(api.get(f"/api/v1/incidents/{incident_id}/callouts").json())


def test_pause_back_status_and_leave_through_the_simulator(
    live: Session, api: httpx.Client, simulator: SimulatorClient, worker: subprocess.Popen[bytes]
) -> None:
    volunteer = add_volunteer(live, km=1)
    live.commit()
    phone = volunteer.phone or ""
    assert "No call-ups until" in answered(simulator, phone, "PAUSE 7D", "paused")
    paused_incident = declare(api)
    assert callouts(api, paused_incident) == []
    assert "back on the National Volunteer Reserve" in answered(simulator, phone, "BACK", "back on")
    incident_id = declare(api)
    wait_for(lambda: any("NVR call-up" in m["body"] for m in outbound_to(simulator, phone)))
    status = answered(simulator, phone, "STATUS", "you are active")
    assert "first_aid" in status and f"{incident_id} waiting for your answer" in status
    asked = answered(simulator, phone, "LEAVE", "reply LEAVE")
    code = asked.split("reply LEAVE ", 1)[1][:6]
    assert "erased what we held" in answered(simulator, phone, f"LEAVE {code}", "erased what we held")
    gone = api.get(f"/api/v1/volunteers/{volunteer.id}")
    assert gone.status_code == 404  # erased everywhere


def test_a_stranger_texting_join_is_answered(
    api: httpx.Client, simulator: SimulatorClient, worker: subprocess.Popen[bytes]
) -> None:
    phone = next_phone()
    assert "not on the National Volunteer Reserve" in answered(simulator, phone, "JOIN", "not on the")
