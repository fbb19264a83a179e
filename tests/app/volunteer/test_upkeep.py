"""Keeping the reserve alive against the real database: expiry reminders, the yearly availability check,
who becomes inactive, and the answers (YES, PAUSE, BACK) that keep someone on the reserve."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.callout.models import Callout, CalloutStatus
from app.inbox.models import InboxItem
from app.message.models import Message, MessageKind
from app.upkeep.service import (
    ask_availability,
    in_upkeep_hours,
    mark_unanswered_inactive,
    nearest_threshold,
    send_expiry_reminders,
)
from app.volunteer.importer import import_volunteers
from app.volunteer.models import Credential, Volunteer, VolunteerStatus
from app.volunteer.schemas import CredentialCreate, VolunteerUpdate
from app.volunteer.service import today_uk, update_volunteer
from cli.main import cli
from tests.app.callout.test_service import declare, outbox
from tests.app.reserve import add_volunteer
from tests.app.webhook.test_service import callout_of, text

DAY = timedelta(days=1)


def days_ahead(days: int) -> date:
    return today_uk() + timedelta(days=days)


def credential(db: Session, volunteer: Volunteer, code: str = "first_aid") -> Credential:
    found = db.scalar(
        select(Credential)
        .where(Credential.volunteer_id == volunteer.id, Credential.skill_code == code)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


def set_fields(db: Session, volunteer: Volunteer, **values: Any) -> None:
    db.execute(update(Volunteer).where(Volunteer.id == volunteer.id).values(**values))
    db.flush()
    db.refresh(volunteer)


def set_expiry(db: Session, volunteer: Volunteer, code: str, expires_on: date) -> None:
    """Time passing: the same credential, nearer its expiry (not a renewal, which resets reminders)."""
    db.execute(
        update(Credential)
        .where(Credential.volunteer_id == volunteer.id, Credential.skill_code == code)
        .values(expires_on=expires_on)
    )


def a_week_later(db: Session, volunteer: Volunteer) -> None:
    set_fields(db, volunteer, reminded_at=datetime.now(UTC) - 8 * DAY)


def sent(db: Session, volunteer: Volunteer, kind: MessageKind) -> list[Message]:
    return [m for m in outbox(db, volunteer) if m.kind is kind]


def test_each_threshold_is_reminded_once(db: Session) -> None:
    volunteer = add_volunteer(db, km=1, expires_on=days_ahead(50))
    assert send_expiry_reminders(db) == 1
    assert credential(db, volunteer).expiry_reminded_days == 60
    expires = days_ahead(50)
    (reminder,) = sent(db, volunteer, MessageKind.expiry_reminder)
    assert f"First aid on {expires.day} {expires:%b %Y}" in reminder.body
    a_week_later(db, volunteer)
    assert send_expiry_reminders(db) == 0  # 50 days left: the 60-day reminder is already sent
    set_expiry(db, volunteer, "first_aid", days_ahead(25))
    assert send_expiry_reminders(db) == 1
    assert credential(db, volunteer).expiry_reminded_days == 30
    a_week_later(db, volunteer)
    assert send_expiry_reminders(db) == 0
    set_expiry(db, volunteer, "first_aid", days_ahead(5))
    assert send_expiry_reminders(db) == 1
    assert credential(db, volunteer).expiry_reminded_days == 7
    a_week_later(db, volunteer)
    assert send_expiry_reminders(db) == 0  # nothing after the last threshold
    assert len(sent(db, volunteer, MessageKind.expiry_reminder)) == 3


def test_a_credential_first_seen_late_gets_the_nearest_threshold_only(db: Session) -> None:
    volunteer = add_volunteer(db, km=1, expires_on=days_ahead(20))
    assert send_expiry_reminders(db) == 1
    assert credential(db, volunteer).expiry_reminded_days == 30
    reached = [nearest_threshold(days_ahead(d), today_uk()) for d in (60, 31, 30, 8, 7, 0)]
    assert reached == [60, 60, 30, 30, 7, 7]


def test_at_most_one_reminder_a_week_listing_every_skill_due(db: Session) -> None:
    volunteer = add_volunteer(db, km=1, skills=("first_aid", "driver_4x4", "flood_rescue"), expires_on=None)
    set_expiry(db, volunteer, "first_aid", days_ahead(20))
    set_expiry(db, volunteer, "driver_4x4", days_ahead(40))
    set_expiry(db, volunteer, "flood_rescue", days_ahead(200))
    assert send_expiry_reminders(db) == 1
    (first,) = sent(db, volunteer, MessageKind.expiry_reminder)
    assert "First aid on" in first.body and "4x4 driver on" in first.body
    assert "Flood rescue" not in first.body
    set_expiry(db, volunteer, "flood_rescue", days_ahead(55))  # due now, but they heard from us this week
    assert send_expiry_reminders(db) == 0
    a_week_later(db, volunteer)
    assert send_expiry_reminders(db) == 1
    second = sent(db, volunteer, MessageKind.expiry_reminder)[-1]
    assert "Flood rescue on" in second.body and "First aid" not in second.body


def test_paused_opted_out_inactive_erased_and_failed_numbers_are_not_reminded(db: Session) -> None:
    soon = days_ahead(10)
    active = add_volunteer(db, km=1, expires_on=soon)
    skipped = [add_volunteer(db, km=2 + i, expires_on=soon) for i in range(4)]
    for volunteer, status in zip(skipped, ("paused", "opted_out", "inactive", "erased"), strict=True):
        set_fields(db, volunteer, status=VolunteerStatus(status))
    failed = add_volunteer(db, km=9, expires_on=soon)
    set_fields(db, failed, phone_failed_at=datetime.now(UTC), phone_failure_code=21211)
    assert send_expiry_reminders(db) == 1
    assert sent(db, active, MessageKind.expiry_reminder)
    for volunteer in [*skipped, failed]:
        assert not sent(db, volunteer, MessageKind.expiry_reminder)
        assert credential(db, volunteer).expiry_reminded_days is None  # reminded when they return


def test_a_renewed_credential_is_reminded_afresh_and_a_repeated_one_is_not(db: Session) -> None:
    volunteer = add_volunteer(db, km=1, expires_on=days_ahead(20))
    send_expiry_reminders(db)
    same = VolunteerUpdate(skills=[CredentialCreate(code="first_aid", expires_on=days_ahead(20))])
    update_volunteer(db, volunteer_id=volunteer.id, data=same, actor="test")
    assert credential(db, volunteer).expiry_reminded_days == 30
    renewed = VolunteerUpdate(skills=[CredentialCreate(code="first_aid", expires_on=days_ahead(50))])
    update_volunteer(db, volunteer_id=volunteer.id, data=renewed, actor="test")
    assert credential(db, volunteer).expiry_reminded_days is None


def test_an_import_keeps_reminders_for_the_same_expiry_and_resets_a_new_one(db: Session) -> None:
    volunteer = add_volunteer(db, km=1, skills=("first_aid", "chainsaw"), expires_on=days_ahead(20))
    send_expiry_reminders(db)
    skills = f"first_aid:1:{days_ahead(20)};chainsaw:1:{days_ahead(400)}"
    rows = f"{volunteer.name},{volunteer.phone},-2.93,54.9,{skills}"
    summary = import_volunteers(db, text=f"name,phone,lon,lat,skills\n{rows}\n", actor="test", upsert=True)
    assert (summary.updated, summary.errors) == (1, [])
    assert credential(db, volunteer, "first_aid").expiry_reminded_days == 30
    assert credential(db, volunteer, "chainsaw").expiry_reminded_days is None


def test_the_yearly_check_asks_those_not_confirmed_for_a_year_once(db: Session) -> None:
    year_ago = datetime.now(UTC) - 400 * DAY
    joined_long_ago, confirmed_long_ago, confirmed_lately, paused = (
        add_volunteer(db, km=k) for k in (1, 2, 3, 4)
    )
    set_fields(db, joined_long_ago, created_at=year_ago)
    set_fields(db, confirmed_long_ago, created_at=year_ago, available_confirmed_at=year_ago)
    set_fields(db, confirmed_lately, created_at=year_ago, available_confirmed_at=datetime.now(UTC) - 10 * DAY)
    set_fields(db, paused, created_at=year_ago, status=VolunteerStatus.paused)
    assert ask_availability(db) == 2
    for volunteer in (joined_long_ago, confirmed_long_ago):
        db.refresh(volunteer)
        assert volunteer.available_asked_at is not None
        (check,) = sent(db, volunteer, MessageKind.availability_check)
        assert "Reply YES" in check.body and "PAUSE" in check.body and "LEAVE" in check.body
    for volunteer in (confirmed_lately, paused):
        assert not sent(db, volunteer, MessageKind.availability_check)
    assert ask_availability(db) == 0


def test_two_weeks_without_an_answer_makes_a_volunteer_inactive_not_deleted(db: Session) -> None:
    silent, still_time = add_volunteer(db, km=1), add_volunteer(db, km=2)
    set_fields(db, silent, available_asked_at=datetime.now(UTC) - 15 * DAY)
    set_fields(db, still_time, available_asked_at=datetime.now(UTC) - 13 * DAY)
    assert mark_unanswered_inactive(db) == 1
    db.refresh(silent)
    db.refresh(still_time)
    assert (silent.status, still_time.status) == (VolunteerStatus.inactive, VolunteerStatus.active)
    assert silent.phone is not None and credential(db, silent).skill_code == "first_aid"
    (told,) = sent(db, silent, MessageKind.marked_inactive)
    assert "BACK" in told.body
    assert mark_unanswered_inactive(db) == 0


def test_an_inactive_volunteer_is_not_called_and_one_marked_is_released(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    inactive, active = add_volunteer(db, km=1), add_volunteer(db, km=2)
    set_fields(db, inactive, status=VolunteerStatus.inactive)
    db.commit()
    incident = declare(client, coordinator)
    assert db.scalar(select(Callout).where(Callout.volunteer_id == inactive.id)) is None
    assert callout_of(db, active, incident).status is CalloutStatus.called
    set_fields(db, active, available_asked_at=datetime.now(UTC) - 15 * DAY)
    mark_unanswered_inactive(db)
    assert callout_of(db, active, incident).status is CalloutStatus.cancelled  # the need is asked again


def test_yes_with_no_call_up_confirms_the_check(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    set_fields(db, volunteer, available_asked_at=datetime.now(UTC) - 2 * DAY)
    db.commit()
    text(client, volunteer, "Yes")
    db.refresh(volunteer)
    assert volunteer.available_asked_at is None
    assert volunteer.available_confirmed_at is not None
    assert datetime.now(UTC) - volunteer.available_confirmed_at < timedelta(minutes=1)
    assert "you stay on the reserve" in outbox(db, volunteer)[-1].body
    assert db.scalar(select(InboxItem).where(InboxItem.volunteer_id == volunteer.id)) is None


def test_a_yes_to_a_call_up_answers_the_call_up_and_the_check(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    set_fields(db, volunteer, available_asked_at=datetime.now(UTC) - 2 * DAY)
    db.commit()
    incident = declare(client, coordinator)
    text(client, volunteer, "YES")
    assert callout_of(db, volunteer, incident).status is CalloutStatus.accepted
    db.refresh(volunteer)
    assert (volunteer.available_asked_at, volunteer.available_confirmed_at is not None) == (None, True)


def test_a_yes_without_a_check_or_call_up_is_still_no_open_call_up(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    text(client, volunteer, "YES")
    assert outbox(db, volunteer)[-1].kind is MessageKind.no_open_callup


def test_pause_answers_the_check(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    set_fields(db, volunteer, available_asked_at=datetime.now(UTC) - 2 * DAY)
    db.commit()
    text(client, volunteer, "PAUSE 2W")
    db.refresh(volunteer)
    assert (volunteer.status, volunteer.available_asked_at) == (VolunteerStatus.paused, None)


@pytest.mark.parametrize("answer", ["BACK", "yes"])
def test_back_or_a_late_yes_makes_an_inactive_volunteer_active(
    answer: str, client: TestClient, db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    set_fields(db, volunteer, available_asked_at=datetime.now(UTC) - 15 * DAY)
    mark_unanswered_inactive(db)
    db.commit()
    text(client, volunteer, answer)
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active
    assert volunteer.available_asked_at is None and volunteer.available_confirmed_at is not None
    assert outbox(db, volunteer)[-1].kind is MessageKind.self_service


def test_upkeep_texts_go_only_in_the_uk_daytime() -> None:
    assert in_upkeep_hours(datetime(2026, 12, 14, 9, 0, tzinfo=UTC))
    assert not in_upkeep_hours(datetime(2026, 12, 14, 3, 0, tzinfo=UTC))
    assert not in_upkeep_hours(datetime(2026, 7, 4, 19, 30, tzinfo=UTC))  # 20:30 BST


@pytest.mark.usefixtures("app_on_test_session")
def test_cli_lists_the_numbers_that_failed_for_good(db: Session) -> None:
    failed, fine = add_volunteer(db, km=1, name="Failed Number"), add_volunteer(db, km=2, name="Fine Number")
    set_fields(db, failed, phone_failed_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), phone_failure_code=21614)
    result = CliRunner().invoke(cli, ["volunteers", "failing"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Failed Number" in result.output and "Fine Number" not in result.output
    assert "2026-12-01 09:30 UTC" in result.output and "21614" in result.output
    assert str(failed.id) in result.output and fine.phone not in result.output
