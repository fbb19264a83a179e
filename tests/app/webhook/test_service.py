"""Replies people actually send, acted on: counted, placed (reference or ETA), checked in, or kept for a
coordinator in the inbox, and always answered."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callout.models import Callout, CalloutStatus
from app.inbox.models import InboxItem, InboxKind
from app.message.models import MessageKind
from app.volunteer.models import Volunteer
from tests.app.callout.test_service import declare, mark_sent, need, outbox
from tests.app.reserve import add_volunteer
from tests.app.twilio import sms


def callout_of(db: Session, volunteer: Volunteer, incident: dict[str, Any]) -> Callout:
    callout = db.scalar(
        select(Callout).where(Callout.volunteer_id == volunteer.id, Callout.incident_id == incident["id"])
    )
    assert callout is not None
    db.refresh(callout)
    return callout


def inbox_of(db: Session, volunteer: Volunteer) -> list[InboxItem]:
    return list(
        db.scalars(select(InboxItem).where(InboxItem.volunteer_id == volunteer.id).order_by(InboxItem.id))
    )


def text(client: TestClient, volunteer: Volunteer, body: str) -> None:
    assert sms(client, volunteer.phone or "", body).status_code == 200


def test_yes_on_my_way_is_counted_and_checked_in(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    text(client, volunteer, "Yes, on my way")
    callout = callout_of(db, volunteer, incident)
    assert callout.status is CalloutStatus.accepted
    assert (callout.checkin, callout.checkin_at is not None) == ("ENROUTE", True)
    assert outbox(db, volunteer)[-1].kind is MessageKind.confirmation
    assert need(client, coordinator, incident["id"])["accepted"] == 1
    assert inbox_of(db, volunteer) == []


def test_yes_i_can_come_is_counted_and_not_stood_down(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    first, second = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, needs=[{"skill": "first_aid", "count": 2}], overask=1)
    mark_sent(db)
    text(client, first, "Yes I can come")
    text(client, second, "yes please")
    assert need(client, coordinator, incident["id"])["filled"] is True
    assert callout_of(db, first, incident).status is CalloutStatus.accepted


def test_a_number_after_yes_that_is_no_reference_of_theirs_is_an_eta(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    minutes = 20 if incident["id"] != 20 else 25
    text(client, volunteer, f"YES {minutes}")
    callout = callout_of(db, volunteer, incident)
    assert (callout.status, callout.eta_minutes) == (CalloutStatus.accepted, minutes)
    assert outbox(db, volunteer)[-1].kind is MessageKind.confirmation


def test_yes_with_a_reference_and_an_eta(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    one = declare(client, coordinator)
    two = declare(client, coordinator, title="Second incident")
    text(client, volunteer, f"yes {two['id']} eta 20 mins")
    assert callout_of(db, volunteer, two).eta_minutes == 20
    assert callout_of(db, volunteer, two).status is CalloutStatus.accepted
    assert callout_of(db, volunteer, one).status is CalloutStatus.called


def test_yes_naming_their_own_reference_is_a_reference(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    text(client, volunteer, f"YES {incident['id']}")
    callout = callout_of(db, volunteer, incident)
    assert (callout.status, callout.eta_minutes) == (CalloutStatus.accepted, None)


def test_minutes_alone_or_a_hedged_yes_are_asked_back_and_kept_never_counted(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    for body in ("20 mins", "yes but not today", "no yes", "yes lol"):
        text(client, volunteer, body)
        assert callout_of(db, volunteer, incident).status is CalloutStatus.called, body
        ask = outbox(db, volunteer)[-1]
        assert ask.kind is MessageKind.ask_reference
        assert f"YES {incident['id']}" in ask.body and "yes or a no" in ask.body
    items = inbox_of(db, volunteer)
    assert [i.kind for i in items] == [InboxKind.ambiguous] * 4
    assert all(i.callout_id == callout_of(db, volunteer, incident).id for i in items)
    assert all(i.message_id is not None for i in items)


def test_unreadable_and_late_answers_go_to_the_inbox_and_are_answered(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    first, second = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    incident = declare(client, coordinator, overask=2)
    mark_sent(db)
    text(client, first, "call me")
    assert outbox(db, first)[-1].kind is MessageKind.unknown_reply
    text(client, first, "yes")
    text(client, second, "👍")  # the need is filled: thanked, told not to go, and kept
    assert outbox(db, second)[-1].kind is MessageKind.not_needed
    assert [i.kind for i in inbox_of(db, first)] == [InboxKind.unreadable]
    late = inbox_of(db, second)
    assert [i.kind for i in late] == [InboxKind.late] and late[0].incident_id == incident["id"]
    stray = add_volunteer(db, km=50)
    db.commit()
    text(client, stray, "NO")
    assert outbox(db, stray)[-1].kind is MessageKind.no_open_callup
    assert [i.kind for i in inbox_of(db, stray)] == [InboxKind.late]


def test_checkins_during_a_deployment_and_the_welfare_check_after_done(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator, exercise=True)
    text(client, volunteer, "Y")
    text(client, volunteer, "on my way, eta 25")
    callout = callout_of(db, volunteer, incident)
    assert (callout.checkin, callout.eta_minutes) == ("ENROUTE", 25)
    assert outbox(db, volunteer)[-1].kind is MessageKind.checkin_ack
    assert outbox(db, volunteer)[-1].body.startswith("EXERCISE NVR ")
    text(client, volunteer, "LATE 15")
    assert callout_of(db, volunteer, incident).checkin == "LATE"
    assert [(i.kind, i.note) for i in inbox_of(db, volunteer)] == [(InboxKind.checkin, "running 15 min late")]
    assert "15 min late" in outbox(db, volunteer)[-1].body
    text(client, volunteer, "arrived")
    callout = callout_of(db, volunteer, incident)
    assert callout.checkin == "ARRIVED" and callout.arrived_at is not None
    text(client, volunteer, "Done")
    callout = callout_of(db, volunteer, incident)
    assert callout.checkin == "DONE" and callout.done_at is not None and callout.welfare_asked_at is not None
    ask = outbox(db, volunteer)[-1]
    assert ask.kind is MessageKind.welfare_check and "Are you safe and home? Reply OK" in ask.body
    text(client, volunteer, "ok thanks")
    assert callout_of(db, volunteer, incident).welfare_ok_at is not None
    assert outbox(db, volunteer)[-1].kind is MessageKind.checkin_ack
    assert "glad you are safe" in outbox(db, volunteer)[-1].body
    assert len(inbox_of(db, volunteer)) == 1  # only the LATE


def test_a_checkin_without_a_deployment_is_kept(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "arrived")
    assert outbox(db, volunteer)[-1].body.startswith("NVR: we have no confirmed call-up")
    assert [i.kind for i in inbox_of(db, volunteer)] == [InboxKind.checkin]


def test_on_my_way_to_a_waiting_callup_says_yes(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    text(client, volunteer, "omw")
    callout = callout_of(db, volunteer, incident)
    assert (callout.status, callout.checkin) == (CalloutStatus.accepted, "ENROUTE")


def test_yes_to_a_pending_welfare_check_is_an_ok(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    text(client, volunteer, "yes")
    assert client.post(f"/api/v1/incidents/{incident['id']}/close", headers=coordinator).status_code == 200
    assert callout_of(db, volunteer, incident).welfare_asked_at is not None
    text(client, volunteer, "👍")
    assert callout_of(db, volunteer, incident).welfare_ok_at is not None
    assert inbox_of(db, volunteer) == []


def test_done_and_home_safe_needs_no_welfare_question_and_an_opted_out_yes_is_kept(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    incident = declare(client, coordinator)
    text(client, volunteer, "yes")
    text(client, volunteer, "done, home safe")
    callout = callout_of(db, volunteer, incident)
    assert callout.done_at is not None and callout.welfare_ok_at is not None and callout.arrived_at is None
    assert outbox(db, volunteer)[-1].kind is MessageKind.checkin_ack
    assert MessageKind.welfare_check not in [m.kind for m in outbox(db, volunteer)]
    text(client, volunteer, "STOP")
    text(client, volunteer, "yes")
    assert [i.kind for i in inbox_of(db, volunteer)] == [InboxKind.late]
