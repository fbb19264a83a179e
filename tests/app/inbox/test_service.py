"""The inbox: listing and counting what waits, resolving it once (as YES or NO through the engine, with a
text, or handled), who did it, the welfare checks nobody answered, and a person's export and erasure."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.callout.models import Callout, CalloutStatus
from app.inbox import service as inbox
from app.inbox.models import InboxItem
from app.message.models import Message, MessageKind
from tests.app.callout.test_service import declare, mark_sent, need, outbox
from tests.app.reserve import add_volunteer
from tests.app.twilio import sms

INBOX = "/api/v1/inbox"


def items(client: TestClient, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    response = client.get(f"{INBOX}{query}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def resolve(client: TestClient, headers: dict[str, str], item_id: int, **body: Any) -> Any:
    return client.post(f"{INBOX}/{item_id}/resolve", json=body, headers=headers)


def test_only_coordinators_and_admins_read_the_inbox(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str], viewer: dict[str, str]
) -> None:
    assert client.get(INBOX).status_code == 401
    assert client.get(INBOX, headers=viewer).status_code == 403
    assert client.get(f"{INBOX}/count", headers=viewer).status_code == 403
    assert resolve(client, viewer, 1, action="handled").status_code == 403
    assert items(client, admin) == {"items": [], "total": 0}
    assert client.get(f"{INBOX}/count", headers=coordinator).status_code == 200


def test_an_unreadable_reply_is_listed_newest_first_and_counted_as_yes_for_a_chosen_callup(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer, other = add_volunteer(db, km=1, name="Ada Lovelace"), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=2)
    mark_sent(db)
    sms(client, volunteer.phone or "", "I'll try to get there, car permitting")
    sms(client, other.phone or "", "who is this")
    listed = items(client, coordinator, f"?incident_id={incident['id']}")
    assert listed["total"] == 2
    newest, oldest = listed["items"]
    assert newest["volunteer_id"] == other.id and oldest["volunteer_id"] == volunteer.id
    assert oldest["body"] == "I'll try to get there, car permitting"
    assert oldest["volunteer_name"] == "Ada Lovelace" and oldest["kind"] == "ambiguous"
    [choice] = oldest["open_callouts"]
    assert (choice["incident_id"], choice["ref"], choice["skill"]) == (
        incident["id"],
        incident["id"],
        "first_aid",
    )
    assert client.get(f"{INBOX}/count", headers=coordinator).json() == {"open": 2}

    resolved = resolve(client, coordinator, oldest["id"], action="accept", callout_id=choice["callout_id"])
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["resolution"] == "accepted" and body["handled_by"].endswith("test-coordinator")
    assert body["handled_at"] is not None and body["resolution_detail"]["counted"] is True
    progress = need(client, coordinator, incident["id"])
    assert (progress["accepted"], progress["filled"]) == (1, True)  # filled, the other stood down
    assert outbox(db, volunteer)[-1].kind is MessageKind.confirmation
    assert outbox(db, other)[-1].kind is MessageKind.standdown
    message = db.get(Message, db.get_one(InboxItem, oldest["id"]).message_id)
    assert message is not None and message.callout_id == choice["callout_id"]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "inbox.resolved"))
    assert event is not None and event.actor.endswith("test-coordinator") and event.entity_id == oldest["id"]

    again = resolve(client, coordinator, oldest["id"], action="handled")
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert client.get(f"{INBOX}/count", headers=coordinator).json() == {"open": 1}
    assert [i["id"] for i in items(client, coordinator, "?state=handled")["items"]] == [oldest["id"]]
    assert items(client, coordinator, "?state=all")["total"] == 2


def test_decline_reply_and_handled(client: TestClient, coordinator: dict[str, str], db: Session) -> None:
    first, second = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=1)
    mark_sent(db)
    sms(client, first.phone or "", "not sure, maybe")
    [item] = items(client, coordinator)["items"]
    mine = item["open_callouts"][0]["callout_id"]
    assert resolve(client, coordinator, item["id"], action="decline").status_code == 200  # its own call-up
    assert db.get_one(Callout, mine).status is CalloutStatus.declined
    assert [m.kind for m in outbox(db, second)] == [MessageKind.callup]  # the next one is called at once

    sms(client, second.phone or "", "call me")
    [item] = items(client, coordinator)["items"]
    wrong = resolve(client, coordinator, item["id"], action="accept", callout_id=mine)
    assert wrong.status_code == 422  # not one of this volunteer's call-ups
    assert resolve(client, coordinator, item["id"], action="reply").status_code == 422  # no text
    replied = resolve(client, coordinator, item["id"], action="reply", text="Ringing you now.")
    assert replied.status_code == 200, replied.text
    detail = replied.json()["resolution_detail"]
    assert detail["segments"] == 1
    sent = db.get_one(Message, detail["message_id"])
    assert (sent.kind, sent.body, sent.to_number) == (
        MessageKind.coordinator_text,
        f"NVR {incident['id']}: Ringing you now.",
        second.phone,
    )
    sms(client, second.phone or "", "call me")
    [item] = items(client, coordinator)["items"]
    assert resolve(client, coordinator, item["id"], action="handled").json()["resolution"] == "handled"
    assert items(client, coordinator)["total"] == 0


def test_an_unanswered_welfare_check_needs_a_call_once_and_a_late_ok_closes_it(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    sms(client, volunteer.phone or "", "yes")
    client.post(f"/api/v1/incidents/{incident['id']}/close", headers=coordinator)
    assert inbox.flag_unanswered_welfare(db, timeout_s=7200) == 0  # not yet overdue
    db.execute(update(Callout).values(welfare_asked_at=Callout.welfare_asked_at - timedelta(hours=3)))
    assert inbox.flag_unanswered_welfare(db, timeout_s=7200) == 1
    assert inbox.flag_unanswered_welfare(db, timeout_s=7200) == 0  # once
    [item] = items(client, coordinator)["items"]
    assert (item["kind"], item["note"], item["body"]) == ("welfare", inbox.WELFARE_NOTE, None)
    assert item["incident_id"] == incident["id"] and item["volunteer_id"] == volunteer.id
    sms(client, volunteer.phone or "", "home safe")
    assert items(client, coordinator)["total"] == 0
    closed = items(client, coordinator, "?state=handled")["items"]
    assert [i["kind"] for i in closed] == ["welfare"]


def test_the_export_holds_inbox_items_and_erasure_leaves_none_of_the_person_in_them(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1, name="Grace Hopper")
    db.commit()
    declare(client, coordinator)
    phone = volunteer.phone or ""
    sms(client, phone, f"My number is {phone}, Grace Hopper here, yes maybe")
    export = client.get(f"/api/v1/volunteers/{volunteer.id}/export", headers=admin).json()
    assert [i["kind"] for i in export["inbox"]] == ["ambiguous"]
    assert client.delete(f"/api/v1/volunteers/{volunteer.id}", headers=admin).status_code == 204
    listed = client.get(f"{INBOX}?state=all", headers=coordinator).text
    assert (
        phone not in listed and phone[1:] not in listed and "Grace" not in listed and "Hopper" not in listed
    )
