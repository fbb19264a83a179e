"""Declaring, answering, filling, standing down and closing, through the HTTP API and signed webhooks.

Messages stay as rows here (no worker runs); the end-to-end tests send them through real workers.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.callout import service as callouts
from app.incident.models import Incident
from app.message.models import Direction, Message, MessageKind, MessageStatus
from app.settings import get_settings
from app.volunteer.models import Volunteer, VolunteerStatus
from tests.app.reserve import add_volunteer, incident_body
from tests.app.twilio import new_sid, signed_post, sms, sms_form
from tests.conftest import is_problem


def declare(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", json=incident_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def outbox(db: Session, volunteer: Volunteer) -> list[Message]:
    return list(
        db.scalars(
            select(Message)
            .where(Message.volunteer_id == volunteer.id, Message.direction == Direction.outbound)
            .order_by(Message.id)
        )
    )


def mark_sent(db: Session) -> None:
    """Pretend the workers sent every pending message (so stand-downs are texted, not cancelled)."""
    db.execute(
        update(Message).where(Message.status == MessageStatus.pending).values(status=MessageStatus.delivered)
    )
    db.commit()


def need(
    client: TestClient, headers: dict[str, str], incident_id: int, skill: str = "first_aid"
) -> dict[str, Any]:
    body = client.get(f"/api/v1/incidents/{incident_id}", headers=headers).json()
    return next(n for n in body["needs"] if n["skill"] == skill)


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (
            {"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
            "self-intersects",
        ),
        ({"area": {"type": "Polygon", "coordinates": []}}, "area"),
        ({"area": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}, "type must be"),
        (
            {
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[-10, 40], [20, 40], [20, 60], [-10, 60], [-10, 40]]],
                }
            },
            "over the limit",
        ),
        ({"needs": [{"skill": "unicorn_rescue", "count": 2}]}, "unicorn_rescue"),
        ({"needs": [{"skill": "first_aid", "count": 0}]}, "count"),
        ({"needs": []}, "needs"),
        ({"kind": "volcano"}, "kind"),
    ],
)
def test_bad_incidents_are_clear_422s(
    client: TestClient, coordinator: dict[str, str], overrides: dict[str, Any], needle: str
) -> None:
    response = client.post("/api/v1/incidents", json=incident_body(**overrides), headers=coordinator)
    assert needle in is_problem(response, 422)["detail"]


def test_roles_on_incidents(client: TestClient, viewer: dict[str, str]) -> None:
    assert client.post("/api/v1/incidents", json=incident_body(), headers=viewer).status_code == 403
    assert client.post("/api/v1/incidents", json=incident_body()).status_code == 401


def test_declaring_calls_the_first_wave_with_overask(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    people = [add_volunteer(db, km=0.5 + i, bearing=i * 40) for i in range(8)]
    db.commit()
    incident = declare(
        client, coordinator, needs=[{"skill": "first_aid", "count": 2}], overask=2, exercise=True
    )
    progress = incident["needs"][0]
    assert progress == {**progress, "count": 2, "called": 4, "pending": 4, "accepted": 0, "filled": False}
    callup = outbox(db, people[0])[0]
    assert callup.kind is MessageKind.callup
    assert callup.body.startswith("EXERCISE NVR call-up: flooding, Carlisle.")
    assert f"YES {incident['id']}" in callup.body
    assert callup.segments <= 2
    assert callup.status is MessageStatus.pending


def test_fill_confirms_and_stands_down_the_rest_and_late_yes_is_thanked(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    a, b, c = (add_volunteer(db, km=k) for k in (1, 2, 3))
    db.commit()
    incident = declare(client, coordinator, needs=[{"skill": "first_aid", "count": 1}], overask=3)
    mark_sent(db)
    assert sms(client, a.phone or "", "yes").status_code == 200
    assert "confirmed" in outbox(db, a)[-1].body and "Civic Centre" in outbox(db, a)[-1].body
    progress = need(client, coordinator, incident["id"])
    assert (progress["accepted"], progress["pending"], progress["stood_down"], progress["filled"]) == (
        1,
        0,
        2,
        True,
    )
    assert outbox(db, b)[-1].kind is MessageKind.standdown
    assert outbox(db, b)[-1].body == (
        f"NVR {incident['id']}: stand down. We have enough people for this call-up, "
        "so you are not needed. Thank you for being ready."
    )
    sms(client, c.phone or "", f"Y {incident['id']}")
    assert outbox(db, c)[-1].kind is MessageKind.not_needed
    assert need(client, coordinator, incident["id"])["accepted"] == 1  # a late YES does not count


def test_unsent_callups_are_cancelled_not_stood_down(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    a, b = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    declare(client, coordinator, overask=2)
    sms(client, a.phone or "", "YES")
    assert [m.status for m in outbox(db, b)] == [MessageStatus.cancelled]


def test_no_calls_the_next_candidate_at_once(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    first, second = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=1)
    assert need(client, coordinator, incident["id"])["called"] == 1
    sms(client, first.phone or "", "no")
    assert outbox(db, first)[-1].kind is MessageKind.declined_ack
    assert [m.kind for m in outbox(db, second)] == [MessageKind.callup]
    progress = need(client, coordinator, incident["id"])
    assert (progress["declined"], progress["pending"]) == (1, 1)


def test_two_open_callups_need_a_reference(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    one = declare(client, coordinator)
    two = declare(client, coordinator, title="Second incident")
    sms(client, volunteer.phone or "", "YES")
    ask = outbox(db, volunteer)[-1]
    assert ask.kind is MessageKind.ask_reference
    assert f"YES {one['id']}" in ask.body and f"YES {two['id']}" in ask.body
    assert need(client, coordinator, one["id"])["accepted"] == 0
    sms(client, volunteer.phone or "", f"yes {two['id']}")
    assert need(client, coordinator, two["id"])["accepted"] == 1
    assert need(client, coordinator, one["id"])["accepted"] == 0


def test_webhook_signature_and_duplicates(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator, needs=[{"skill": "first_aid", "count": 1}])
    form = sms_form(volunteer.phone or "", "YES")
    assert client.post("/webhooks/twilio/sms", data=form).status_code == 403
    forged = signed_post(client, "/webhooks/twilio/sms", form, token="not-the-token")
    assert forged.status_code == 403
    assert need(client, coordinator, incident["id"])["accepted"] == 0
    twice = new_sid()
    assert sms(client, volunteer.phone or "", "YES", sid=twice).status_code == 200
    again = sms_form(volunteer.phone or "", "YES", sid=twice, NumSegments="1")  # another delivery of it
    assert signed_post(client, "/webhooks/twilio/sms", again).status_code == 200
    confirmations = [m for m in outbox(db, volunteer) if m.kind is MessageKind.confirmation]
    assert len(confirmations) == 1
    inbound = db.scalars(select(Message).where(Message.provider_sid == twice)).all()
    assert len(inbound) == 1 and inbound[0].callout_id is not None


def test_stop_and_start(client: TestClient, coordinator: dict[str, str], db: Session) -> None:
    quitter, backup = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    declare(client, coordinator, overask=1)
    sms(client, quitter.phone or "", "STOP", OptOutType="STOP")
    db.refresh(quitter)
    assert quitter.status is VolunteerStatus.opted_out
    assert [m.status for m in outbox(db, quitter)] == [MessageStatus.cancelled]
    assert [m.kind for m in outbox(db, backup)] == [MessageKind.callup]  # replaced at once
    sms(client, quitter.phone or "", "start")
    db.refresh(quitter)
    assert quitter.status is VolunteerStatus.active
    assert outbox(db, quitter)[-1].kind is MessageKind.opted_in


def test_help_and_unknown_replies(client: TestClient, coordinator: dict[str, str], db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    sms(client, volunteer.phone or "", "HELP")
    assert outbox(db, volunteer)[-1].kind is MessageKind.help
    reply = sms(client, volunteer.phone or "", "I can come after 5 if that helps")
    assert reply.status_code == 200
    assert outbox(db, volunteer)[-1].kind is MessageKind.unknown_reply
    kept = db.scalar(select(AuditEvent).where(AuditEvent.action == "sms.ambiguous"))  # "if": hedged
    assert kept is not None and kept.detail["needs_coordinator"] is True
    sms(client, volunteer.phone or "", "call me")
    kept = db.scalar(select(AuditEvent).where(AuditEvent.action == "sms.unrecognised"))
    assert kept is not None and kept.detail["needs_coordinator"] is True


def test_waves_escalate_and_widen_the_radius(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    near = add_volunteer(db, km=3)
    middle = add_volunteer(db, km=14)
    far = add_volunteer(db, km=33)
    db.commit()
    incident = declare(client, coordinator, overask=1, max_radius_km=40, wave_timeout_s=60)
    assert need(client, coordinator, incident["id"])["called"] == 1
    db.execute(
        update(Incident)
        .where(Incident.id == incident["id"])
        .values(next_wave_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    from app.callout.models import Callout

    db.execute(update(Callout).values(called_at=datetime.now(UTC) - timedelta(minutes=5)))
    assert callouts.run_wave(db, incident_id=incident["id"]) == 1
    progress = need(client, coordinator, incident["id"])
    assert (progress["called"], progress["waves"], progress["search_radius_km"]) == (2, 2, 20)
    assert [m.kind for m in outbox(db, middle)] == [MessageKind.callup]
    db.execute(update(Callout).values(called_at=datetime.now(UTC) - timedelta(minutes=10)))
    db.execute(update(Incident).values(next_wave_at=datetime.now(UTC) - timedelta(seconds=1)))
    callouts.run_wave(db, incident_id=incident["id"])
    db.execute(update(Callout).values(called_at=datetime.now(UTC) - timedelta(minutes=15)))
    db.execute(update(Incident).values(next_wave_at=datetime.now(UTC) - timedelta(seconds=1)))
    callouts.run_wave(db, incident_id=incident["id"])
    progress = need(client, coordinator, incident["id"])
    assert progress["called"] == 3 and progress["exhausted"] is True and progress["search_radius_km"] == 40
    assert {near.id, middle.id, far.id} <= {
        c["volunteer_id"]
        for c in client.get(f"/api/v1/incidents/{incident['id']}/callouts", headers=coordinator).json()
    }
    exhausted = db.scalar(select(AuditEvent).where(AuditEvent.action == "need.pool_exhausted"))
    assert exhausted is not None


def test_an_incident_keeps_its_radius_step_and_maximum_from_declaration(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    settings = get_settings()
    default = declare(client, coordinator, max_radius_km=None)
    assert (default["radius_step_km"], default["max_radius_km"]) == (
        settings.radius_step_km,
        settings.max_radius_km,
    )
    own = declare(client, coordinator, radius_step_km=5, max_radius_km=30)
    assert (own["radius_step_km"], own["max_radius_km"]) == (5, 30)
    beyond = declare(client, coordinator, max_radius_km=settings.max_radius_km + 50)
    assert beyond["max_radius_km"] == settings.max_radius_km  # the search never went past the deployment's


def test_a_wave_timer_firing_early_or_twice_does_nothing(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    add_volunteer(db, km=1)
    add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=1)
    assert callouts.run_wave(db, incident_id=incident["id"]) == 0
    assert need(client, coordinator, incident["id"])["called"] == 1


def test_patch_count_calls_more_or_stands_down(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    people = [add_volunteer(db, km=1 + i) for i in range(4)]
    db.commit()
    incident = declare(client, coordinator, overask=1, needs=[{"skill": "first_aid", "count": 1}])
    mark_sent(db)
    sms(client, people[0].phone or "", "YES")
    raised = client.patch(
        f"/api/v1/incidents/{incident['id']}",
        json={"needs": [{"skill": "first_aid", "count": 3}]},
        headers=coordinator,
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["needs"][0]["pending"] == 2
    mark_sent(db)
    sms(client, people[1].phone or "", "YES")
    lowered = client.patch(
        f"/api/v1/incidents/{incident['id']}",
        json={"needs": [{"skill": "first_aid", "count": 1}]},
        headers=coordinator,
    )
    body = lowered.json()["needs"][0]
    assert (body["accepted"], body["pending"], body["filled"]) == (1, 0, True)
    released = outbox(db, people[1])[-1]
    assert released.kind is MessageKind.standdown  # newest acceptance released first
    assert released.body == (
        f"NVR {incident['id']}: stand down. Fewer people are needed now, so you are no longer needed. "
        "Please do not go. Thank you."
    )
    assert "closed" not in released.body  # the incident is still open
    assert released.segments == 1
    bad = client.patch(
        f"/api/v1/incidents/{incident['id']}",
        json={"needs": [{"skill": "unicorn_rescue", "count": 1}]},
        headers=coordinator,
    )
    assert bad.status_code == 422  # a need may be added (tests/app/callout/), not for an unknown skill


def test_close_tells_everyone_and_keeps_the_confirmed(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    people = [add_volunteer(db, km=1 + i) for i in range(3)]
    db.commit()
    incident = declare(client, coordinator, overask=3, needs=[{"skill": "first_aid", "count": 2}])
    mark_sent(db)
    sms(client, people[0].phone or "", "YES")
    closed = client.post(f"/api/v1/incidents/{incident['id']}/close", headers=coordinator)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["needs"][0]["accepted"] == 1  # the record keeps who was confirmed
    for person in people[1:]:
        assert outbox(db, person)[-1].kind is MessageKind.standdown
    # The one confirmed is stood down, then asked whether they are safe and home.
    assert [m.kind for m in outbox(db, people[0])[-2:]] == [MessageKind.standdown, MessageKind.welfare_check]
    assert outbox(db, people[0])[-2].body == (
        f"NVR {incident['id']}: stand down. The incident is closed and you are no longer needed. Thank you."
    )
    assert "closed" in outbox(db, people[1])[-1].body
    listed = client.get("/api/v1/incidents?status=closed", headers=coordinator).json()
    assert incident["id"] in [i["id"] for i in listed["items"]]
