"""The sign-up intake commits sign-ups that arrive together in one transaction, answers each only once
committed, refuses each bad one on its own, and isolates a sign-up that breaks its batch."""

import uuid
from concurrent.futures import wait

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.signup.intake import Intake
from app.signup.models import Signup
from app.signup.schemas import SignupCreate, SignupStarted
from tests.app.reserve import next_phone
from tests.app.signup.test_signup import signup_body


def count_signups(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Signup)) or 0


def test_sign_ups_queued_together_are_written_together_and_each_answered(
    app_on_test_session: None, db: Session
) -> None:
    intake = Intake(max_batch=40)
    good = [SignupCreate.model_validate(signup_body(next_phone())) for _ in range(60)]
    bad = SignupCreate.model_validate(signup_body(next_phone(), skills=["juggling"]))
    # Each its own client address (as in a real surge), new on every run: the per-address count is in Redis.
    futures = [intake.submit(data, f"test-{uuid.uuid4().hex}") for data in [*good[:30], bad, *good[30:]]]
    _, pending = wait(futures, timeout=30)
    assert not pending
    refused = futures[30].exception()
    assert isinstance(refused, InvalidInput) and "juggling" in refused.detail
    answers = [f.result() for i, f in enumerate(futures) if i != 30]
    assert all(isinstance(a, SignupStarted) for a in answers)
    assert len({a.signup for a in answers}) == 60
    assert count_signups(db) == 60
    assert intake.batches < len(futures) / 2  # together, not one transaction each


def test_a_sign_up_that_breaks_its_batch_is_refused_alone(app_on_test_session: None, db: Session) -> None:
    intake = Intake()
    good = [SignupCreate.model_validate(signup_body(next_phone())) for _ in range(5)]
    # Past the schema's checks (as a bug would be): a number too long for its column fails the INSERT.
    broken = SignupCreate.model_construct(**{**good[0].model_dump(), "phone": "+44" + "7" * 30})
    client = f"test-{uuid.uuid4().hex}"
    futures = [intake.submit(data, client) for data in [good[0], broken, *good[1:]]]
    wait(futures, timeout=30)
    with pytest.raises(DBAPIError):
        futures[1].result()
    assert all(isinstance(f.result(), SignupStarted) for i, f in enumerate(futures) if i != 1)
    assert count_signups(db) == 5
