"""Erasure erases everywhere, a person can see what we hold, and one path releases the uncallable."""

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from alerts.sender import PermanentSendError
from app.audit.models import AuditEvent
from app.callout import dispatch
from app.callout.models import Callout, CalloutStatus
from app.message import retry
from app.message.models import Direction, Message, MessageKind, MessageStatus, Receipt
from app.settings import get_settings
from app.volunteer.importer import import_volunteers
from app.volunteer.models import ErasedPhone, Volunteer, VolunteerStatus
from app.volunteer.phone import phone_fingerprint
from cli.main import cli
from tests.app.reserve import add_volunteer, incident_body
from tests.app.twilio import new_sid, receipt_form, signed_post, sms

RETRY = retry.RetryPolicy(max_attempts=3, base_s=4.0, cap_s=8.0)
NAME = "Ada Lovelace"
STREET = "12 Acacia Avenue"
CARLISLE = [-2.9350, 54.8925]


def declare(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", json=incident_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def mark_sent(db: Session) -> None:
    db.execute(
        update(Message).where(Message.status == MessageStatus.pending).values(status=MessageStatus.delivered)
    )
    db.commit()


def need(client: TestClient, headers: dict[str, str], incident_id: int) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/incidents/{incident_id}", headers=headers).json()["needs"][0])


def outbox(db: Session, volunteer_id: int) -> list[Message]:
    return list(
        db.scalars(
            select(Message)
            .where(Message.volunteer_id == volunteer_id, Message.direction == Direction.outbound)
            .order_by(Message.id)
        )
    )


def callouts_of(db: Session, volunteer_id: int) -> list[Callout]:
    db.expire_all()
    return list(db.scalars(select(Callout).where(Callout.volunteer_id == volunteer_id)))


@pytest.fixture
def accepted(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> tuple[Volunteer, Volunteer, int]:
    """Ada has said YES (after texting her name and street) to a need of one; Bob is the next candidate."""
    ada = add_volunteer(db, km=1, name=NAME)
    bob = add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=1)
    callup = outbox(db, ada.id)[0]
    callup.provider_sid = new_sid()
    mark_sent(db)
    receipt = receipt_form(callup.provider_sid, "delivered") | {"To": ada.phone or ""}
    assert signed_post(client, "/webhooks/twilio/status", receipt).status_code in (200, 204)
    sms(client, ada.phone or "", f"This is {NAME} of {STREET}, I can come")
    sms(client, ada.phone or "", "YES")
    progress = need(client, coordinator, incident["id"])
    assert (progress["accepted"], progress["filled"]) == (1, True)
    return ada, bob, incident["id"]


def test_erasure_leaves_no_personal_data_anywhere(
    client: TestClient, admin: dict[str, str], db: Session, accepted: tuple[Volunteer, Volunteer, int]
) -> None:
    ada, _, _ = accepted
    phone = ada.phone or ""
    national = "0" + phone.removeprefix("+44")
    held = list(db.scalars(select(Message).where(Message.volunteer_id == ada.id)))
    sids = [m.provider_sid for m in held if m.provider_sid]
    assert client.delete(f"/api/v1/volunteers/{ada.id}", headers=admin).status_code == 204
    db.expire_all()
    for needle in (phone, phone.removeprefix("+"), national, NAME, STREET, "Acacia"):
        messages = db.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.to_number.contains(needle)
                | Message.from_number.contains(needle)
                | Message.body.contains(needle)
                | Message.error_message.contains(needle)
            )
        )
        assert messages == 0, needle
        events = db.scalar(
            select(func.count()).select_from(AuditEvent).where(cast(AuditEvent.detail, Text).contains(needle))
        )
        assert events == 0, needle
    kept = db.scalar(select(func.count()).select_from(Message).where(Message.volunteer_id == ada.id))
    assert kept == len(held)  # the rows stay, anonymised, so counts and history still add up
    assert db.scalar(select(func.count()).select_from(Message).where(Message.provider_sid.in_(sids))) == 0
    assert db.scalar(select(func.count()).select_from(Receipt).where(Receipt.provider_sid.in_(sids))) == 0
    assert [c.distance_km for c in callouts_of(db, ada.id)] == [None]
    erased = db.get_one(Volunteer, ada.id)
    assert (erased.name, erased.phone, erased.location, erased.consent_at) == ("(erased)", None, None, None)


def test_erasure_is_audited_by_whom_without_personal_data(
    client: TestClient, admin: dict[str, str], db: Session, accepted: tuple[Volunteer, Volunteer, int]
) -> None:
    ada, _, _ = accepted
    assert client.delete(f"/api/v1/volunteers/{ada.id}", headers=admin).status_code == 204
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "volunteer.erased")).one()
    assert event.entity_id == ada.id
    assert event.actor.startswith("token:") and event.actor.endswith(":test-admin")
    assert "7911" not in json.dumps(event.detail) and NAME not in json.dumps(event.detail)


def test_erasure_releases_an_accepted_call_up_and_refills_the_need(
    client: TestClient,
    admin: dict[str, str],
    coordinator: dict[str, str],
    db: Session,
    accepted: tuple[Volunteer, Volunteer, int],
) -> None:
    ada, bob, incident_id = accepted
    assert client.delete(f"/api/v1/volunteers/{ada.id}", headers=admin).status_code == 204
    progress = need(client, coordinator, incident_id)
    assert (progress["accepted"], progress["filled"], progress["pending"]) == (0, False, 1)
    assert [c.status for c in callouts_of(db, ada.id)] == [CalloutStatus.cancelled]
    assert [m.kind for m in outbox(db, bob.id)] == [MessageKind.callup]


def test_erasure_of_someone_still_called_stops_them_counting_as_pending(
    client: TestClient, admin: dict[str, str], coordinator: dict[str, str], db: Session
) -> None:
    ada, bob = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=1)
    assert client.delete(f"/api/v1/volunteers/{ada.id}", headers=admin).status_code == 204
    progress = need(client, coordinator, incident["id"])
    assert (progress["pending"], progress["called"]) == (1, 2)
    assert [m.status for m in outbox(db, ada.id)] == [MessageStatus.cancelled]
    assert [m.kind for m in outbox(db, bob.id)] == [MessageKind.callup]


def volunteer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": NAME,
        "phone": "07911 123456",
        "location": {"type": "Point", "coordinates": CARLISLE},
        "skills": [{"code": "first_aid", "expires_on": "2099-01-01"}],
    }
    body.update(overrides)
    return body


def test_an_erased_person_comes_back_only_with_fresh_consent(
    client: TestClient, admin: dict[str, str], db: Session
) -> None:
    vid = client.post("/api/v1/volunteers", json=volunteer_body(), headers=admin).json()["id"]
    assert client.delete(f"/api/v1/volunteers/{vid}", headers=admin).status_code == 204
    fingerprint = db.scalars(select(ErasedPhone.fingerprint)).one()
    assert fingerprint == phone_fingerprint("+447911123456", key=get_settings().erasure_key)
    again = client.post("/api/v1/volunteers", json=volunteer_body(), headers=admin)
    assert again.status_code == 409, again.text
    assert "erased" in again.json()["detail"] and "consent_at" in again.json()["detail"]
    for not_fresh in (datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)):
        body = volunteer_body(consent_at=not_fresh.isoformat())
        assert client.post("/api/v1/volunteers", json=body, headers=admin).status_code == 409
    fresh = datetime.now(UTC).isoformat()
    back = client.post("/api/v1/volunteers", json=volunteer_body(consent_at=fresh), headers=admin)
    assert back.status_code == 201, back.text
    assert back.json()["consent_at"] is not None
    assert db.scalar(select(func.count()).select_from(ErasedPhone)) == 0


def test_the_fingerprint_is_keyed() -> None:
    one = phone_fingerprint("+447911123456", key="one key")
    assert one == phone_fingerprint("+447911123456", key="one key")
    assert one != phone_fingerprint("+447911123456", key="another key")
    assert "447911123456" not in one


def test_an_import_refuses_an_erased_person_unless_the_row_gives_fresh_consent(
    client: TestClient, admin: dict[str, str], db: Session
) -> None:
    vid = client.post("/api/v1/volunteers", json=volunteer_body(), headers=admin).json()["id"]
    assert client.delete(f"/api/v1/volunteers/{vid}", headers=admin).status_code == 204
    refused = import_volunteers(db, text="name,phone,lon,lat\nAda,07911 123456,-2.9,54.9\n", actor="test")
    assert [(e.row, e.column) for e in refused.errors] == [(2, "phone")]
    assert "erased" in refused.errors[0].message and "consent_at" in refused.errors[0].message
    fresh = datetime.now(UTC).isoformat()
    summary = import_volunteers(
        db, text=f"name,phone,lon,lat,consent_at\nAda,07911 123456,-2.9,54.9,{fresh}\n", actor="test"
    )
    assert (summary.created, summary.errors) == (1, [])
    back = db.scalars(select(Volunteer).where(Volunteer.phone == "+447911123456")).one()
    assert back.consent_at is not None


def test_stop_releases_an_accepted_call_up(
    client: TestClient, coordinator: dict[str, str], db: Session, accepted: tuple[Volunteer, Volunteer, int]
) -> None:
    ada, bob, incident_id = accepted
    sms(client, ada.phone or "", "STOP", OptOutType="STOP")
    progress = need(client, coordinator, incident_id)
    assert (progress["accepted"], progress["filled"], progress["pending"]) == (0, False, 1)
    assert [m.kind for m in outbox(db, bob.id)] == [MessageKind.callup]


def test_a_permanent_number_error_releases_an_accepted_call_up(
    client: TestClient, coordinator: dict[str, str], db: Session, accepted: tuple[Volunteer, Volunteer, int]
) -> None:
    ada, bob, incident_id = accepted
    confirmation = outbox(db, ada.id)[-1]
    assert confirmation.kind is MessageKind.confirmation
    db.execute(
        update(Message)
        .where(Message.id == confirmation.id)
        .values(status=MessageStatus.sending, claimed_by="test-worker")
    )
    error = PermanentSendError("not a valid phone number", code=21211)
    dispatch.record_failure(
        db, message_id=confirmation.id, holder="test-worker", error=error, retry=RETRY, rng=random.Random(1)
    )
    db.commit()
    assert db.get_one(Volunteer, ada.id).status is VolunteerStatus.paused
    progress = need(client, coordinator, incident_id)
    assert (progress["accepted"], progress["filled"], progress["pending"]) == (0, False, 1)
    assert [m.kind for m in outbox(db, bob.id)] == [MessageKind.callup]


@pytest.mark.parametrize(("status", "texted"), [("paused", True), ("opted_out", False)])
def test_patch_to_paused_or_opted_out_releases_and_refills(
    client: TestClient,
    coordinator: dict[str, str],
    db: Session,
    accepted: tuple[Volunteer, Volunteer, int],
    status: str,
    texted: bool,
) -> None:
    ada, bob, incident_id = accepted
    mark_sent(db)
    response = client.patch(f"/api/v1/volunteers/{ada.id}", json={"status": status}, headers=coordinator)
    assert response.status_code == 200, response.text
    progress = need(client, coordinator, incident_id)
    assert (progress["accepted"], progress["filled"], progress["pending"]) == (0, False, 1)
    assert [m.kind for m in outbox(db, bob.id)] == [MessageKind.callup]
    last = outbox(db, ada.id)[-1]
    if texted:
        assert last.kind is MessageKind.standdown and "paused" in last.body
        assert [c.status for c in callouts_of(db, ada.id)] == [CalloutStatus.stood_down]
    else:
        assert last.kind is not MessageKind.standdown
        assert [c.status for c in callouts_of(db, ada.id)] == [CalloutStatus.cancelled]


@pytest.mark.parametrize("status", ["active", "paused"])
def test_a_coordinator_cannot_undo_a_volunteers_stop(
    client: TestClient, coordinator: dict[str, str], db: Session, status: str
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    sms(client, volunteer.phone or "", "STOP", OptOutType="STOP")
    response = client.patch(
        f"/api/v1/volunteers/{volunteer.id}", json={"status": status}, headers=coordinator
    )
    assert response.status_code == 409, response.text
    assert "START" in response.json()["detail"]
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.opted_out
    sms(client, volunteer.phone or "", "START")
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active


def test_export_holds_everything_about_one_person(
    client: TestClient,
    admin: dict[str, str],
    coordinator: dict[str, str],
    db: Session,
    accepted: tuple[Volunteer, Volunteer, int],
) -> None:
    ada, bob, incident_id = accepted
    client.patch(
        f"/api/v1/volunteers/{ada.id}",
        json={
            "organisations": ["British Red Cross"],
            "availability": [{"weekday": 0, "starts": "08:00", "ends": "18:00"}],
            "unavailable": [
                {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z", "reason": "holiday"}
            ],
        },
        headers=coordinator,
    )
    assert client.get(f"/api/v1/volunteers/{ada.id}/export", headers=coordinator).status_code == 403
    response = client.get(f"/api/v1/volunteers/{ada.id}/export", headers=admin)
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["profile"]["name"] == NAME and export["profile"]["phone"] == ada.phone
    assert export["profile"]["location"]["type"] == "Point"
    assert [c["code"] for c in export["credentials"]] == ["first_aid"]
    assert export["availability"] == [{"weekday": 0, "starts": "08:00:00", "ends": "18:00:00"}]
    assert export["unavailable"][0]["reason"] == "holiday"
    assert export["organisations"] == ["British Red Cross"]
    assert [(c["incident_id"], c["status"]) for c in export["callouts"]] == [(incident_id, "accepted")]
    assert export["callouts"][0]["distance_km"] > 0
    directions = {m["direction"] for m in export["messages"]}
    assert directions == {"inbound", "outbound"}
    assert any(STREET in m["body"] for m in export["messages"])
    callup = next(m for m in export["messages"] if m["kind"] == "callup")
    assert [r["status"] for r in callup["receipts"]] == ["delivered"]
    actions = {e["action"] for e in export["audit"]}
    assert {"volunteer.created", "callout.accepted", "volunteer.updated"} <= actions
    assert all(ada.phone in (m["to_number"], m["from_number"]) for m in export["messages"])
    assert bob.phone not in response.text


def test_export_of_an_unknown_or_erased_volunteer_is_404(
    client: TestClient, admin: dict[str, str], db: Session
) -> None:
    assert client.get("/api/v1/volunteers/999999/export", headers=admin).status_code == 404
    vid = client.post("/api/v1/volunteers", json=volunteer_body(), headers=admin).json()["id"]
    client.delete(f"/api/v1/volunteers/{vid}", headers=admin)
    assert client.get(f"/api/v1/volunteers/{vid}/export", headers=admin).status_code == 404


@pytest.mark.usefixtures("app_on_test_session")
def test_cli_export_writes_json_to_stdout_or_a_file(tmp_path: Path, db: Session) -> None:
    ada = add_volunteer(db, km=1, name=NAME)
    result = CliRunner().invoke(cli, ["volunteers", "export", str(ada.id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["profile"]["name"] == NAME
    path = tmp_path / "ada.json"
    result = CliRunner().invoke(cli, ["volunteers", "export", str(ada.id), "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text())["profile"]["phone"] == ada.phone
    missing = CliRunner().invoke(cli, ["volunteers", "export", "999999"])
    assert missing.exit_code == 1 and "999999" in missing.output
