"""The whole path through real workers: call-ups out through the simulator, receipts and replies back."""

import subprocess
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.message.models import Message, MessageKind, MessageStatus
from app.volunteer.models import VolunteerStatus
from simulator.client import SimulatorClient
from tests.app.reserve import add_volunteer, incident_body
from tests.e2e.conftest import wait_for


def outbound_to(simulator: SimulatorClient, number: str) -> list[dict[str, Any]]:
    return [m for m in simulator.messages(number) if m["direction"] == "outbound-api"]


def need_of(api: httpx.Client, incident_id: int) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/incidents/{incident_id}").json()["needs"][0])


def test_callups_go_out_answers_come_back_and_the_need_fills(
    live: Session, api: httpx.Client, simulator: SimulatorClient, worker: subprocess.Popen[bytes]
) -> None:
    people = [add_volunteer(live, km=1 + i, bearing=30 * i) for i in range(6)]
    live.commit()
    response = api.post(
        "/api/v1/incidents", json=incident_body(needs=[{"skill": "first_aid", "count": 2}], overask=2)
    )
    assert response.status_code == 201, response.text
    incident_id = response.json()["id"]

    def reached() -> list[Any]:
        return [p for p in people if outbound_to(simulator, p.phone or "")]

    called = wait_for(lambda: (lambda r: r if len(r) == 4 else None)(reached()))
    assert called == people[:4]  # the four nearest
    first = outbound_to(simulator, called[0].phone or "")[0]
    assert f"Reply YES {incident_id}" in first["body"]
    wait_for(
        lambda: (
            live.scalar(
                select(Message).where(
                    Message.kind == MessageKind.callup, Message.status != MessageStatus.delivered
                )
            )
            is None
            and live.scalar(select(Message).where(Message.status == MessageStatus.delivered)) is not None
        ),
        every_s=0.2,
    )
    live.expire_all()
    for person in called[:2]:
        answer = simulator.inbound(person.phone or "", "Yes")
        assert answer.status_code == 200, answer.text
    progress = wait_for(
        lambda: (lambda n: n if n["filled"] and n["pending"] == 0 else None)(need_of(api, incident_id))
    )
    assert (progress["accepted"], progress["stood_down"]) == (2, 2)
    wait_for(lambda: any("confirmed" in m["body"] for m in outbound_to(simulator, called[0].phone or "")))
    wait_for(lambda: any("stand down" in m["body"] for m in outbound_to(simulator, called[3].phone or "")))
    callouts = api.get(f"/api/v1/incidents/{incident_id}/callouts").json()
    assert {c["status"] for c in callouts} == {"accepted", "stood_down"}


def test_silence_brings_the_next_wave_on_the_scheduler(
    live: Session, api: httpx.Client, simulator: SimulatorClient, worker: subprocess.Popen[bytes]
) -> None:
    people = [add_volunteer(live, km=1 + i) for i in range(3)]
    live.commit()
    response = api.post("/api/v1/incidents", json=incident_body(overask=1, wave_timeout_s=1))
    incident_id = response.json()["id"]
    assert need_of(api, incident_id)["called"] == 1
    progress = wait_for(
        lambda: (lambda n: n if n["called"] == 3 else None)(need_of(api, incident_id)), timeout_s=30
    )
    assert progress["waves"] == 3
    for person in people:
        wait_for(lambda p=person: outbound_to(simulator, p.phone or ""))


def test_permanent_errors_replace_the_volunteer(
    live: Session,
    api: httpx.Client,
    simulator: SimulatorClient,
    sim_config: Any,
    worker: subprocess.Popen[bytes],
) -> None:
    stopped = add_volunteer(live, km=1)
    landline = add_volunteer(live, km=2)
    backup_one = add_volunteer(live, km=3)
    backup_two = add_volunteer(live, km=4)
    live.commit()
    sim_config.fail_numbers[stopped.phone] = 21610
    sim_config.fail_numbers[landline.phone] = 30006
    incident_id = api.post(
        "/api/v1/incidents", json=incident_body(overask=2, needs=[{"skill": "first_aid", "count": 1}])
    ).json()["id"]
    wait_for(
        lambda: (
            outbound_to(simulator, backup_one.phone or "") and outbound_to(simulator, backup_two.phone or "")
        )
    )
    progress = need_of(api, incident_id)
    assert progress["failed"] == 2 and progress["pending"] == 2
    live.expire_all()
    live.refresh(stopped)
    assert stopped.status is VolunteerStatus.opted_out
    failed = {c["volunteer_id"]: c for c in api.get(f"/api/v1/incidents/{incident_id}/callouts").json()}
    assert "21610" in (failed[stopped.id]["reason"] or "")
    assert "30006" in (failed[landline.id]["reason"] or "")
