"""A coordinator's actions on an open incident, through the HTTP API: add a need, change counts (asking
again those stood down), widen the search, move the rendezvous, send an update, release one person,
enter attendance, close with a reason; and the record that closing keeps.

Messages stay as rows (no worker runs); `mark_sent` plays the workers having sent them.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.callout.models import Callout, CalloutStatus
from app.message.models import MessageKind
from app.volunteer.models import Volunteer
from tests.app.callout.test_service import declare, mark_sent, need, outbox
from tests.app.reserve import add_volunteer
from tests.app.twilio import sms


def patch(client: TestClient, headers: dict[str, str], incident_id: int, **body: Any) -> Any:
    return client.patch(f"/api/v1/incidents/{incident_id}", json=body, headers=headers)


def callout_of(db: Session, incident_id: int, volunteer: Volunteer) -> Callout:
    db.expire_all()
    return db.scalars(
        select(Callout).where(Callout.incident_id == incident_id, Callout.volunteer_id == volunteer.id)
    ).one()


def actions(db: Session, incident_id: int) -> list[tuple[str, str]]:
    return [
        (e.actor, e.action)
        for e in db.scalars(
            select(AuditEvent).where(AuditEvent.actor.like("token:%")).order_by(AuditEvent.id)
        )
        if e.entity_id == incident_id or (e.detail or {}).get("incident_id") == incident_id
    ]


def test_a_need_can_be_added_to_an_open_incident(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    add_volunteer(db, km=1)
    sawyer = add_volunteer(db, km=2, skills=("chainsaw",))
    db.commit()
    incident = declare(client, coordinator, overask=1)
    answer = patch(client, coordinator, incident["id"], needs=[{"skill": "chainsaw", "count": 1}])
    assert answer.status_code == 200, answer.text
    added = next(n for n in answer.json()["needs"] if n["skill"] == "chainsaw")
    assert (added["count"], added["pending"], added["search_radius_km"]) == (1, 1, 10)
    assert outbox(db, sawyer)[0].kind is MessageKind.callup
    assert "Need: chainsaw" in outbox(db, sawyer)[0].body
    assert any(a == "need.added" for _, a in actions(db, incident["id"]))
    unknown = patch(client, coordinator, incident["id"], needs=[{"skill": "unicorn_rescue", "count": 1}])
    assert unknown.status_code == 422 and "unicorn_rescue" in unknown.json()["detail"]
    twice = patch(
        client,
        coordinator,
        incident["id"],
        needs=[{"skill": "chainsaw", "count": 1}, {"skill": "chainsaw", "count": 2}],
    )
    assert twice.status_code == 422


def test_raising_a_count_asks_again_those_stood_down_before_new_people(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    a, b, c = (add_volunteer(db, km=k) for k in (1, 2, 3))
    db.commit()
    incident = declare(client, coordinator, overask=2)  # one needed: a and b asked
    mark_sent(db)
    sms(client, a.phone or "", "YES")
    assert callout_of(db, incident["id"], b).status is CalloutStatus.stood_down
    raised = patch(client, coordinator, incident["id"], needs=[{"skill": "first_aid", "count": 2}])
    assert raised.status_code == 200, raised.text
    again = callout_of(db, incident["id"], b)
    assert (again.status, again.reason, again.wave) == (CalloutStatus.called, None, 2)
    assert [m.kind for m in outbox(db, b)] == [MessageKind.callup, MessageKind.standdown, MessageKind.callup]
    # The gap of one times over-ask two wants two: b asked again, then c is new.
    assert [m.kind for m in outbox(db, c)] == [MessageKind.callup]
    mark_sent(db)
    sms(client, b.phone or "", f"YES {incident['id']}")
    assert need(client, coordinator, incident["id"])["accepted"] == 2
    events = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "wave.reasked" in events


def test_raising_a_count_asks_those_whose_call_up_was_cancelled_unsent(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    a, b = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=2)
    sms(client, a.phone or "", "YES")  # before b's call-up went out
    assert callout_of(db, incident["id"], b).status is CalloutStatus.cancelled
    patch(client, coordinator, incident["id"], needs=[{"skill": "first_aid", "count": 2}])
    assert callout_of(db, incident["id"], b).status is CalloutStatus.called
    assert [m.kind for m in outbox(db, b)] == [MessageKind.callup, MessageKind.callup]


def test_a_released_person_is_not_asked_again(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    a, b = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=1)
    mark_sent(db)
    sms(client, a.phone or "", "YES")
    callout = callout_of(db, incident["id"], a)
    released = client.post(
        f"/api/v1/incidents/{incident['id']}/callouts/{callout.id}/release",
        json={"reason": "not fit to drive"},
        headers=coordinator,
    )
    assert released.status_code == 200, released.text
    body = released.json()
    assert (body["status"], body["reason"]) == ("stood_down", "released: not fit to drive")
    told = outbox(db, a)[-1]
    assert told.kind is MessageKind.standdown and "released you" in told.body
    assert "not fit" not in told.body  # the reason is for the record, not the text
    assert [m.kind for m in outbox(db, b)] == [MessageKind.callup]  # the next candidate, at once
    assert ("token:" in actions(db, incident["id"])[-1][0]) and actions(db, incident["id"])[-1][1] == (
        "callout.released"
    )
    again = client.post(
        f"/api/v1/incidents/{incident['id']}/callouts/{callout.id}/release",
        json={"reason": "twice"},
        headers=coordinator,
    )
    assert again.status_code == 409
    patch(client, coordinator, incident["id"], needs=[{"skill": "first_aid", "count": 2}])
    assert callout_of(db, incident["id"], a).status is CalloutStatus.stood_down
    other = client.post(
        f"/api/v1/incidents/{incident['id'] + 1000}/callouts/{callout.id}/release",
        json={"reason": "x"},
        headers=coordinator,
    )
    assert other.status_code == 404


def test_widening_the_search_and_its_maximum(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    add_volunteer(db, km=1)
    far = add_volunteer(db, km=15)
    db.commit()
    incident = declare(client, coordinator, overask=1, needs=[{"skill": "first_aid", "count": 2}])
    assert need(client, coordinator, incident["id"])["exhausted"] is True
    beyond = patch(client, coordinator, incident["id"], radius_km=20)
    assert beyond.status_code == 422 and "beyond max_radius_km 10" in beyond.json()["detail"]
    assert patch(client, coordinator, incident["id"], max_radius_km=81).status_code == 422  # settings: 80
    wider = patch(client, coordinator, incident["id"], max_radius_km=30, radius_km=20)
    assert wider.status_code == 200, wider.text
    body = wider.json()
    assert (body["radius_km"], body["max_radius_km"]) == (20, 30)
    progress = body["needs"][0]
    assert (progress["search_radius_km"], progress["called"], progress["exhausted"]) == (20, 2, False)
    assert [m.kind for m in outbox(db, far)] == [MessageKind.callup]
    assert patch(client, coordinator, incident["id"], radius_km=15).status_code == 422  # only widens
    assert patch(client, coordinator, incident["id"], max_radius_km=12).status_code == 422  # below searched
    done = [a for _, a in actions(db, incident["id"])]
    assert "incident.radius_widened" in done and "incident.max_radius_changed" in done


def test_moving_the_rendezvous_and_sending_an_update_text_everyone_confirmed(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    a, b, c = (add_volunteer(db, km=k) for k in (1, 2, 3))
    db.commit()
    incident = declare(client, coordinator, overask=1, needs=[{"skill": "first_aid", "count": 2}])
    mark_sent(db)
    sms(client, a.phone or "", "YES")
    sms(client, b.phone or "", "NO")
    moved = patch(
        client,
        coordinator,
        incident["id"],
        rendezvous={
            "point": {"type": "Point", "coordinates": [-2.93, 54.89]},
            "text": "Sands Centre car park",
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["rendezvous"]["text"] == "Sands Centre car park"
    assert outbox(db, a)[-1].kind is MessageKind.update
    assert outbox(db, a)[-1].body == (
        f"NVR {incident['id']}: the rendezvous has moved. Go to Sands Centre car park."
    )
    assert outbox(db, b)[-1].kind is MessageKind.declined_ack  # only the confirmed are told
    update = client.post(
        f"/api/v1/incidents/{incident['id']}/update",
        json={"text": "Go to the east gate instead, the bridge is shut."},
        headers=coordinator,
    )
    assert update.status_code == 200, update.text
    assert update.json() == {"sent": 1}
    assert outbox(db, a)[-1].body == (
        f"NVR {incident['id']} update: Go to the east gate instead, the bridge is shut."
    )
    assert outbox(db, a)[-1].segments == 1
    assert [m.kind for m in outbox(db, c)] == [MessageKind.callup]
    too_long = client.post(
        f"/api/v1/incidents/{incident['id']}/update", json={"text": "ł" * 140}, headers=coordinator
    )
    assert too_long.status_code == 422 and "segments" in too_long.json()["detail"]
    done = [a for _, a in actions(db, incident["id"])]
    assert "incident.rendezvous_moved" in done and "incident.update_sent" in done


def test_attendance_and_hours(client: TestClient, coordinator: dict[str, str], db: Session) -> None:
    a, b = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=2)
    mark_sent(db)
    sms(client, a.phone or "", "YES")
    callout = callout_of(db, incident["id"], a)
    url = f"/api/v1/incidents/{incident['id']}/callouts/{callout.id}/attendance"
    arrived = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    first = client.post(url, json={"arrived_at": arrived.isoformat()}, headers=coordinator)
    assert first.status_code == 200, first.text
    assert (first.json()["arrived_at"], first.json()["hours"]) == ("2026-12-02T09:00:00Z", None)
    done = client.post(
        url, json={"done_at": (arrived + timedelta(hours=3, minutes=30)).isoformat()}, headers=coordinator
    )
    assert done.json()["hours"] == 3.5 and done.json()["arrived_at"] == "2026-12-02T09:00:00Z"
    early = client.post(
        url, json={"done_at": (arrived - timedelta(hours=1)).isoformat()}, headers=coordinator
    )
    assert early.status_code == 422
    other = callout_of(db, incident["id"], b)
    not_confirmed = client.post(
        f"/api/v1/incidents/{incident['id']}/callouts/{other.id}/attendance",
        json={"arrived_at": arrived.isoformat()},
        headers=coordinator,
    )
    assert not_confirmed.status_code == 409
    listed = client.get(f"/api/v1/incidents/{incident['id']}/callouts", headers=coordinator).json()
    row = next(r for r in listed if r["id"] == callout.id)
    assert {k: row[k] for k in ("eta_minutes", "checkin", "hours")} == {
        "eta_minutes": None,
        "checkin": None,
        "hours": 3.5,
    }


def test_closing_keeps_the_confirmed_and_texts_the_reason_to_everyone_called(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    a, b, c = (add_volunteer(db, km=k) for k in (1, 2, 3))
    db.commit()
    incident = declare(client, coordinator, overask=3, needs=[{"skill": "first_aid", "count": 2}])
    mark_sent(db)
    sms(client, a.phone or "", "YES")
    sms(client, c.phone or "", "NO")
    closed = client.post(
        f"/api/v1/incidents/{incident['id']}/close",
        json={"reason": "the river has fallen below the defences"},
        headers=coordinator,
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["close_reason"]) == ("closed", "the river has fallen below the defences")
    progress = body["needs"][0]
    assert (progress["accepted"], progress["stood_down"], progress["declined"]) == (1, 1, 1)
    assert callout_of(db, incident["id"], a).status is CalloutStatus.accepted
    expected = (
        f"NVR {incident['id']}: stand down. The incident is closed: the river has fallen below the "
        "defences. Thank you."
    )
    # The one confirmed is told why, then asked whether they are safe and home.
    second_last = outbox(db, a)[-2]
    assert (second_last.kind, second_last.body) == (MessageKind.standdown, expected)
    assert outbox(db, a)[-1].kind is MessageKind.welfare_check
    assert outbox(db, b)[-1].body == expected
    assert outbox(db, c)[-1].kind is MessageKind.declined_ack  # said no: not texted again
    assert "incident.closed" in [x for _, x in actions(db, incident["id"])]
    # The record stays: a NO or YES after the end changes nothing, and nobody is confirmed again.
    sms(client, a.phone or "", f"NO {incident['id']}")
    sms(client, a.phone or "", f"YES {incident['id']}")
    assert callout_of(db, incident["id"], a).status is CalloutStatus.accepted
    assert outbox(db, a)[-1].kind is MessageKind.not_needed
    # Further actions need an open incident; attendance can still be entered.
    assert patch(client, coordinator, incident["id"], notes="x").status_code == 422
    url = f"/api/v1/incidents/{incident['id']}/callouts/{callout_of(db, incident['id'], a).id}/attendance"
    assert (
        client.post(url, json={"arrived_at": "2026-12-02T09:00:00Z"}, headers=coordinator).status_code == 200
    )


def test_a_closed_incidents_confirmed_people_can_be_called_again(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    a = add_volunteer(db, km=1)
    db.commit()
    first = declare(client, coordinator, overask=1)
    mark_sent(db)
    sms(client, a.phone or "", "YES")
    second = declare(client, coordinator, overask=1)
    assert need(client, coordinator, second["id"])["called"] == 0  # committed to the first
    client.post(f"/api/v1/incidents/{first['id']}/close", headers=coordinator)  # no body: old clients
    third = declare(client, coordinator, overask=1)
    assert need(client, coordinator, third["id"])["called"] == 1
    assert callout_of(db, first["id"], a).status is CalloutStatus.accepted
    # Map data shows no home of a closed incident's confirmed people.
    features = client.get(f"/api/v1/map/incidents/{first['id']}/callouts", headers=coordinator).json()
    assert features["features"] == []
