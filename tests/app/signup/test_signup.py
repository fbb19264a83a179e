"""Joining through the API with the real database and Redis: a sign-up, its code by SMS, verification,
and each way it is refused."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from alerts.sender import SendResult
from app.auth.throttle import WindowCounter
from app.callout import dispatch, personal_data
from app.errors import TooManyRequests
from app.message.models import Direction, Message, MessageKind, MessageStatus
from app.organisation.models import Organisation
from app.queue import SIGNUP
from app.signup import consent
from app.signup.models import CodePurpose, PhoneCode, Signup
from app.signup.schemas import SignupCreate
from app.signup.service import CODES_PER_NUMBER, delete_stale, start
from app.volunteer.models import Consent, ConsentScope, Volunteer, VolunteerSource, VolunteerStatus
from geo.places import find_town
from tests.app.reserve import add_volunteer, next_phone
from tests.conftest import TEST_REDIS_URL, is_problem


def signup_body(phone: str, **overrides: Any) -> dict[str, Any]:
    """A sign-up from Carlisle of a first-aider, with the service consent ticked."""
    body: dict[str, Any] = {
        "name": "Ada Lovelace",
        "phone": phone,
        "town": "Carlisle",
        "max_travel_km": 15,
        "skills": ["first_aid"],
        "languages": ["en", "cy"],
        "availability": ["weekend"],
        "consent": True,
        "consent_version": consent.CURRENT,
    }
    body.update(overrides)
    return body


def code_messages(db: Session, phone: str) -> list[Message]:
    return list(
        db.scalars(
            select(Message)
            .where(Message.to_number == phone, Message.kind == MessageKind.verification_code)
            .order_by(Message.id)
        )
    )


def the_code(db: Session, phone: str) -> str:
    """The code from the newest SMS to this phone: its first six characters."""
    return code_messages(db, phone)[-1].body[:6]


def join(client: TestClient, phone: str, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/signups", json=signup_body(phone, **overrides))
    assert response.status_code == 201, response.text
    started: dict[str, Any] = response.json()
    return started


def verify(client: TestClient, signup: str, code: str) -> Any:
    return client.post("/api/v1/signups/verify", json={"signup": signup, "code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def by_phone(db: Session, phone: str) -> Volunteer | None:
    return db.scalar(select(Volunteer).where(Volunteer.phone == phone))


def test_a_sign_up_sends_a_code_and_the_right_code_puts_them_on_the_reserve(
    client: TestClient, db: Session
) -> None:
    phone = next_phone()
    started = join(client, phone)
    assert started["phone_ending"] == phone[-3:]
    assert by_phone(db, phone) is None  # not callable until verified
    [sms] = code_messages(db, phone)
    assert (sms.volunteer_id, sms.status, sms.segments) == (None, MessageStatus.pending, 1)
    assert sms.body[:6].isdigit() and "to join the National Volunteer Reserve" in sms.body
    assert verify(client, started["signup"], sms.body[:6]).json() == {"state": "verified"}

    volunteer = by_phone(db, phone)
    assert volunteer is not None
    assert (volunteer.name, volunteer.status, volunteer.source) == (
        "Ada Lovelace",
        VolunteerStatus.active,
        VolunteerSource.signup,
    )
    assert volunteer.phone_verified_at is not None and volunteer.available_confirmed_at is not None
    assert volunteer.max_travel_km == 15 and volunteer.languages == ["en", "cy"]
    profile = client.get(f"/api/v1/volunteers/{volunteer.id}", headers=admin_headers(db)).json()
    carlisle = find_town("Carlisle")
    assert profile["location"]["coordinates"] == [carlisle.lon, carlisle.lat]
    assert [(s["code"], s["verified_by"]) for s in profile["skills"]] == [("first_aid", None)]  # claimed
    assert {(w["weekday"], w["starts"]) for w in profile["availability"]} == {
        (5, "08:00:00"),
        (6, "08:00:00"),
    }
    [given] = db.scalars(select(Consent).where(Consent.volunteer_id == volunteer.id)).all()
    assert (given.scope, given.version, given.source) == (ConsentScope.service, consent.CURRENT, "web")
    assert given.wording == consent.wording(ConsentScope.service)
    welcome = db.scalar(select(Message).where(Message.volunteer_id == volunteer.id))
    assert welcome is not None and welcome.kind is MessageKind.welcome and "PAUSE" in welcome.body
    assert db.scalar(select(func.count()).select_from(Signup)) == 0  # the sign-up's copy is gone


def admin_headers(db: Session) -> dict[str, str]:
    from app.auth.models import Role
    from tests.conftest import bearer

    return bearer(db, Role.admin)


def test_news_is_a_separate_choice_recorded_only_when_ticked(client: TestClient, db: Session) -> None:
    phone = next_phone()
    started = join(client, phone, marketing=True)
    verify(client, started["signup"], the_code(db, phone))
    volunteer = by_phone(db, phone)
    assert volunteer is not None
    scopes = set(db.scalars(select(Consent.scope).where(Consent.volunteer_id == volunteer.id)))
    assert scopes == {ConsentScope.service, ConsentScope.marketing}


def test_each_wrong_code_is_counted_and_the_fifth_ends_the_code(client: TestClient, db: Session) -> None:
    phone = next_phone()
    started = join(client, phone)
    code = the_code(db, phone)
    for left in (4, 3, 2, 1):
        problem = is_problem(verify(client, started["signup"], wrong(code)), 422)
        assert problem["tries_left"] == left and f"{left} tr" in problem["detail"]
    problem = is_problem(verify(client, started["signup"], wrong(code)), 409)
    assert problem["reason"] == "too_many" and "ask for a new one" in problem["detail"]
    assert is_problem(verify(client, started["signup"], code), 409)["reason"] == "too_many"
    assert by_phone(db, phone) is None


def test_an_expired_code_is_refused_and_says_to_ask_again(client: TestClient, db: Session) -> None:
    phone = next_phone()
    started = join(client, phone)
    db.execute(update(PhoneCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.commit()
    problem = is_problem(verify(client, started["signup"], the_code(db, phone)), 409)
    assert problem["reason"] == "expired" and "10 minutes" in problem["detail"]


def test_a_code_lasts_ten_minutes_from_when_it_is_sent_not_from_the_request(
    client: TestClient, db: Session
) -> None:
    phone = next_phone()
    join(client, phone)
    [sms] = code_messages(db, phone)
    db.execute(update(PhoneCode).values(expires_at=datetime.now(UTC) - timedelta(minutes=20)))
    sms.status = MessageStatus.sending
    db.flush()
    dispatch.record_sent(
        db, message_id=sms.id, result=SendResult(sid="SM" + "1" * 32, status="queued", segments=1)
    )
    row = db.scalar(select(PhoneCode).where(PhoneCode.message_id == sms.id))
    assert row is not None
    db.refresh(row)
    left = row.expires_at - db.scalar(select(func.now()))
    assert timedelta(minutes=9) < left <= timedelta(minutes=10)


def test_codes_wait_on_their_own_queue_behind_every_emergency_message(
    client: TestClient, db: Session
) -> None:
    phone = next_phone()
    join(client, phone)
    [sms] = code_messages(db, phone)
    jobs = Redis.from_url(TEST_REDIS_URL).lrange(f"rq:queue:{SIGNUP}", 0, -1)
    assert any(f"-{sms.id}-".encode() in job for job in jobs)


def test_a_number_already_on_the_reserve_gets_the_same_answer_and_an_update_code(
    client: TestClient, db: Session
) -> None:
    holder = add_volunteer(db, km=1, name="Grace Hopper", status="active")
    holder.credentials[0].verified_by = "St John Ambulance"
    db.commit()
    started = join(client, holder.phone or "", name="Grace B. Hopper", skills=["first_aid", "driver_4x4"])
    assert set(started) == {"signup", "phone_ending", "code_expires_at", "resend_after_s"}
    [sms] = code_messages(db, holder.phone or "")
    assert sms.volunteer_id == holder.id and "update your details" in sms.body
    assert db.scalar(select(PhoneCode.purpose).where(PhoneCode.message_id == sms.id)) is CodePurpose.update
    verify(client, started["signup"], sms.body[:6])
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.phone == holder.phone)) == 1
    volunteer = by_phone(db, holder.phone or "")
    assert volunteer is not None and volunteer.name == "Grace B. Hopper"
    profile = client.get(f"/api/v1/volunteers/{holder.id}", headers=admin_headers(db)).json()
    assert {s["code"]: s["verified_by"] for s in profile["skills"]} == {
        "first_aid": "St John Ambulance",  # a verified credential is never replaced by a claim
        "driver_4x4": None,
    }
    answer = db.scalars(select(Message).where(Message.volunteer_id == holder.id).order_by(Message.id)).all()
    assert answer[-1].kind is MessageKind.self_service and "updated" in answer[-1].body


def test_someone_who_texted_stop_still_gets_the_code_they_asked_for_on_the_web(
    client: TestClient, db: Session
) -> None:
    holder = add_volunteer(db, km=1)
    holder.status = VolunteerStatus.opted_out
    db.commit()
    join(client, holder.phone or "")
    [sms] = code_messages(db, holder.phone or "")
    [claimed] = dispatch.claim(db, message_ids=[sms.id], holder="test", lease_s=5)
    assert claimed.message_id == sms.id


def test_an_erased_number_joins_again_with_the_fresh_consent_given_at_join(
    client: TestClient, db: Session
) -> None:
    gone = add_volunteer(db, km=1)
    phone = gone.phone or ""
    personal_data.erase_volunteer(db, volunteer_id=gone.id, actor="test")
    db.commit()
    started = join(client, phone)
    [sms] = [m for m in code_messages(db, phone) if m.status is MessageStatus.pending]
    verify(client, started["signup"], sms.body[:6])
    back = by_phone(db, phone)
    assert back is not None and back.id != gone.id and back.consent_at is not None


def test_a_number_gets_at_most_three_codes_an_hour_whoever_asks(client: TestClient, db: Session) -> None:
    phone = next_phone()
    for _ in range(CODES_PER_NUMBER):
        join(client, phone)
    problem = is_problem(client.post("/api/v1/signups", json=signup_body(phone)), 429)
    assert "too many codes" in problem["detail"]
    assert len(code_messages(db, phone)) == CODES_PER_NUMBER


def test_one_address_may_start_only_so_many_sign_ups(db: Session) -> None:
    redis = Redis.from_url(TEST_REDIS_URL)
    counter = WindowCounter(redis, limit=2, window_s=60, key="nvr:test-signups:{}")
    client = f"198.51.100.{datetime.now(UTC).microsecond % 250}"
    redis.delete(*redis.keys("nvr:test-signups:*") or ["none"])
    for _ in range(2):
        start(db, data=SignupCreate.model_validate(signup_body(next_phone())), client=client, counter=counter)
    try:
        start(db, data=SignupCreate.model_validate(signup_body(next_phone())), client=client, counter=counter)
    except TooManyRequests as exc:
        assert "too many sign-ups from this address" in exc.detail
        assert exc.extra["retry_after_s"] > 0
    else:
        raise AssertionError("a third sign-up from one address was accepted")


def test_resending_waits_for_the_last_code_and_then_only_the_newest_works(
    client: TestClient, db: Session
) -> None:
    phone = next_phone()
    started = join(client, phone)
    ref = {"signup": started["signup"]}
    problem = is_problem(client.post("/api/v1/signups/resend", json=ref), 429)
    assert "still on its way" in problem["detail"]
    db.execute(update(Message).where(Message.to_number == phone).values(status=MessageStatus.delivered))
    db.commit()
    assert "wait" in is_problem(client.post("/api/v1/signups/resend", json=ref), 429)["detail"]
    db.execute(update(PhoneCode).values(created_at=datetime.now(UTC) - timedelta(minutes=2)))
    db.commit()
    first = the_code(db, phone)
    assert client.post("/api/v1/signups/resend", json=ref).status_code == 201
    newest = the_code(db, phone)
    if newest != first:
        assert is_problem(verify(client, started["signup"], first), 422)["tries_left"] == 4
    assert verify(client, started["signup"], newest).status_code == 200


def test_a_consent_from_an_older_wording_or_none_at_all_is_refused(client: TestClient, db: Session) -> None:
    phone = next_phone()
    stale = is_problem(
        client.post("/api/v1/signups", json=signup_body(phone, consent_version="2020-01")), 409
    )
    assert "wording has changed" in stale["detail"]
    body = signup_body(phone)
    del body["consent"]
    assert is_problem(client.post("/api/v1/signups", json=body), 422)["errors"][0]["field"] == "consent"
    assert is_problem(client.post("/api/v1/signups", json=signup_body(phone, consent=False)), 422)
    assert code_messages(db, phone) == []


def test_bad_places_skills_organisations_and_numbers_are_each_refused_clearly(
    client: TestClient, db: Session
) -> None:
    db.add(Organisation(name="Carlisle Mountain Rescue"))
    db.commit()
    phone = next_phone()
    cases = {
        "did you mean 'Carlisle'": signup_body(phone, town="Carlilse"),
        "a pin on the map or a town": signup_body(
            phone, location={"type": "Point", "coordinates": [-2.9, 54.9]}
        ),
        "unknown skill code(s): juggling": signup_body(phone, skills=["juggling"]),
        "unknown organisation(s): Nobody's Club": signup_body(
            phone, organisations=["Carlisle Mountain Rescue", "Nobody's Club"]
        ),
        "not a mobile number": signup_body("+441228817000"),
        "not a valid phone number": signup_body("07911"),
    }
    for expected, body in cases.items():
        problem = is_problem(client.post("/api/v1/signups", json=body), 422)
        assert expected in problem["detail"], (expected, problem)
    assert db.scalar(select(func.count()).select_from(Signup)) == 0


def test_a_pin_is_where_they_respond_from(client: TestClient, db: Session) -> None:
    phone = next_phone()
    started = join(client, phone, town=None, location={"type": "Point", "coordinates": [-3.1, 54.6]})
    verify(client, started["signup"], the_code(db, phone))
    volunteer = by_phone(db, phone)
    assert volunteer is not None
    profile = client.get(f"/api/v1/volunteers/{volunteer.id}", headers=admin_headers(db)).json()
    assert profile["location"]["coordinates"] == [-3.1, 54.6]


def test_unverified_sign_ups_are_deleted_after_a_day_with_their_codes(
    client: TestClient, db: Session
) -> None:
    old, fresh = next_phone(), next_phone()
    join(client, old)
    join(client, fresh)
    db.execute(
        update(Signup).where(Signup.phone == old).values(created_at=datetime.now(UTC) - timedelta(days=2))
    )
    assert delete_stale(db) == 1
    assert db.scalars(select(Signup.phone)).all() == [fresh]
    assert db.scalar(select(func.count()).select_from(PhoneCode).where(PhoneCode.phone == old)) == 0


def test_erasure_empties_the_codes_and_sign_ups_of_the_number(client: TestClient, db: Session) -> None:
    holder = add_volunteer(db, km=1)
    db.commit()
    join(client, holder.phone or "")
    personal_data.erase_volunteer(db, volunteer_id=holder.id, actor="test")
    assert db.scalar(select(func.count()).select_from(PhoneCode).where(PhoneCode.phone == holder.phone)) == 0
    assert db.scalar(select(func.count()).select_from(Signup)) == 0
    assert (
        db.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.to_number == holder.phone, Message.direction == Direction.outbound)
        )
        == 0
    )
