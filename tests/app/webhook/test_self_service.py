"""The volunteer's own commands by SMS (PAUSE, BACK, STATUS, LEAVE) and texts from strangers, acted on
through the signed webhook with the real database, each answered at once."""

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alerts.replies import Reply, ReplyIntent
from alerts.sender import SendResult
from app.callout import dispatch
from app.callout.models import CalloutStatus
from app.inbox.models import InboxItem, InboxKind
from app.message.models import Direction, Message, MessageKind
from app.message.service import queue_for
from app.queue import HIGH
from app.settings import get_settings
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.service import UK
from app.webhook.self_service import pause_end, resume_due_pauses
from tests.app.callout.test_service import declare, mark_sent, need, outbox
from tests.app.reserve import add_volunteer, next_phone
from tests.app.twilio import sms
from tests.app.webhook.test_service import callout_of, text


def last_answer(db: Session, volunteer: Volunteer) -> Message:
    answer = outbox(db, volunteer)[-1]
    assert answer.kind is MessageKind.self_service
    return answer


def test_pause_7d_pauses_for_a_week_and_says_the_day_they_come_back(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "PAUSE 7D")
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.paused
    assert volunteer.paused_until is not None
    back_on = volunteer.paused_until.astimezone(UK)
    assert abs(volunteer.paused_until - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    assert f"until {back_on:%a} {back_on.day} {back_on:%b}" in last_answer(db, volunteer).body


def test_a_paused_volunteer_is_not_called_and_back_makes_them_callable(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "pause")
    assert "until you reply BACK" in last_answer(db, volunteer).body
    first = declare(client, coordinator)
    assert need(client, coordinator, first["id"])["called"] == 0
    text(client, volunteer, "Resume")
    db.refresh(volunteer)
    assert (volunteer.status, volunteer.paused_until) == (VolunteerStatus.active, None)
    assert volunteer.available_confirmed_at is not None
    assert "back on the National Volunteer Reserve" in last_answer(db, volunteer).body
    second = declare(client, coordinator)
    assert callout_of(db, volunteer, second).status is CalloutStatus.called


def test_pausing_with_a_confirmed_call_up_releases_it_and_says_so(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer, spare = add_volunteer(db, km=1), add_volunteer(db, km=3)
    db.commit()
    incident = declare(client, coordinator, overask=1)
    mark_sent(db)
    text(client, volunteer, "YES")
    assert callout_of(db, volunteer, incident).status is CalloutStatus.accepted
    text(client, volunteer, "pause 2w")
    assert callout_of(db, volunteer, incident).status is not CalloutStatus.accepted
    assert f"released from call-up {incident['id']}" in last_answer(db, volunteer).body
    assert callout_of(db, spare, incident).status is CalloutStatus.called  # the need is filled again


def test_status_lists_state_skills_with_expiry_and_open_call_ups(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1, skills=("first_aid",), expires_on=date(2031, 3, 3))
    db.commit()
    incident = declare(client, coordinator)
    text(client, volunteer, "Status?")
    body = last_answer(db, volunteer).body
    assert "you are active" in body
    assert "first_aid (expires 3 Mar 2031)" in body
    assert f"{incident['id']} waiting for your answer" in body


def test_an_unreadable_pause_is_not_a_pause_and_gets_the_help(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "pause until 31 feb")
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active
    answer = outbox(db, volunteer)[-1]
    assert answer.kind is MessageKind.unknown_reply and "PAUSE, BACK, STATUS, LEAVE" in answer.body
    assert (
        db.scalar(select(InboxItem.kind).where(InboxItem.volunteer_id == volunteer.id))
        is InboxKind.unreadable
    )


def test_a_pause_until_a_day_more_than_a_year_away_is_asked_again(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "PAUSE UNTIL 29 FEB")  # the next 29 February is in 2028
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active
    assert outbox(db, volunteer)[-1].kind is MessageKind.unknown_reply
    kinds = db.scalars(select(InboxItem.kind).where(InboxItem.volunteer_id == volunteer.id)).all()
    assert kinds == [InboxKind.unreadable]


def leave_code(db: Session, volunteer: Volunteer) -> str:
    """The code in the newest LEAVE answer: the six digits after "reply LEAVE"."""
    body = outbox(db, volunteer)[-1].body
    assert "reply LEAVE" in body, body
    return body.split("reply LEAVE ", 1)[1][:6]


def test_leave_asks_for_a_code_and_one_text_erases_nobody(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "LEAVE")
    answer = outbox(db, volunteer)[-1]
    assert answer.kind is MessageKind.leave_code and "erase everything we hold" in answer.body
    # An answer to the volunteer's own text: sent with the answers, not behind a surge of sign-up codes.
    assert queue_for(answer.kind) == HIGH
    assert leave_code(db, volunteer).isdigit()
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active


def test_leave_with_a_wrong_code_erases_nothing_and_says_how_many_tries_are_left(
    client: TestClient, db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "LEAVE")
    code = leave_code(db, volunteer)
    text(client, volunteer, f"LEAVE {(int(code) + 1) % 1_000_000:06d}")
    assert "4 tries left" in last_answer(db, volunteer).body
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active


def test_leave_with_its_code_erases_them_and_a_last_text_goes_to_the_captured_number(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1, name="Florence Nightingale")
    db.commit()
    phone = volunteer.phone or ""
    incident = declare(client, coordinator)
    text(client, volunteer, "LEAVE")
    text(client, volunteer, f"leave {leave_code(db, volunteer)}")
    db.expire_all()
    gone = db.get_one(Volunteer, volunteer.id)
    assert (gone.status, gone.phone, gone.name) == (VolunteerStatus.erased, None, "(erased)")
    assert callout_of(db, volunteer, incident).status is not CalloutStatus.called  # released, refilled
    last = outbox(db, volunteer)[-1]
    assert (last.kind, last.to_number) == (MessageKind.left, phone)
    assert "erased what we held" in last.body
    others = [m for m in outbox(db, volunteer) if m.id != last.id]
    assert all(m.to_number == "" for m in others)  # everything before it is anonymised
    [claimed] = dispatch.claim(db, message_ids=[last.id], holder="test", lease_s=5)
    assert claimed.to == phone
    dispatch.record_sent(
        db, message_id=last.id, result=SendResult(sid="SM" + "2" * 32, status="queued", segments=1)
    )
    db.commit()
    db.refresh(last)
    assert (last.to_number, last.provider_sid) == ("", None)  # and now it is gone from that text too


def test_a_stranger_is_answered_once_a_day_and_shown_to_a_person(client: TestClient, db: Session) -> None:
    phone = next_phone()
    for body in ("JOIN", "hello, I have a new phone"):
        assert sms(client, phone, body).status_code == 200
    answers = db.scalars(
        select(Message).where(Message.to_number == phone, Message.direction == Direction.outbound)
    ).all()
    assert [m.kind for m in answers] == [MessageKind.join_link]
    assert answers[0].volunteer_id is None and "not on the National Volunteer Reserve" in answers[0].body
    assert f"sign up at {get_settings().public_base_url}/join ." in answers[0].body
    items = db.scalars(select(InboxItem).where(InboxItem.kind == InboxKind.unknown_sender)).all()
    assert len(items) >= 2


def test_join_from_a_volunteer_says_they_are_on_the_reserve(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "join")
    assert "already on the National Volunteer Reserve" in last_answer(db, volunteer).body


def test_a_pause_that_has_run_out_ends_but_not_a_failed_numbers(client: TestClient, db: Session) -> None:
    ended, failed = add_volunteer(db, km=1), add_volunteer(db, km=2)
    db.commit()
    text(client, ended, "PAUSE 3 days")
    text(client, failed, "PAUSE 3 days")
    past = datetime.now(UTC) - timedelta(minutes=1)
    db.execute(update(Volunteer).where(Volunteer.id.in_([ended.id, failed.id])).values(paused_until=past))
    db.execute(update(Volunteer).where(Volunteer.id == failed.id).values(phone_failed_at=past))
    assert resume_due_pauses(db) == 1
    db.refresh(ended)
    db.refresh(failed)
    assert (ended.status, failed.status) == (VolunteerStatus.active, VolunteerStatus.paused)
    assert "back on the National Volunteer Reserve" in outbox(db, ended)[-1].body


def test_until_a_day_is_the_start_of_its_next_occurrence_in_uk_time() -> None:
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert pause_end(Reply(ReplyIntent.PAUSE, until=(24, 12)), now=now) == datetime(2026, 12, 24, tzinfo=UK)
    assert pause_end(Reply(ReplyIntent.PAUSE, until=(1, 12)), now=now) == datetime(2027, 12, 1, tzinfo=UK)
    assert pause_end(Reply(ReplyIntent.PAUSE, until=(1, 6)), now=now) == datetime(2027, 6, 1, tzinfo=UK)
    assert pause_end(Reply(ReplyIntent.PAUSE, until=(29, 2)), now=now) is None  # 2028: over a year away
    assert pause_end(Reply(ReplyIntent.PAUSE), now=now) is None
