"""Accepted webhook signatures are kept for their replay window and then forgotten, a batch at a time."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.webhook import signature
from app.webhook.models import WebhookSignature


def keep(db: Session, name: str, *, age: timedelta) -> None:
    assert db.scalar(signature.claim(name)) == name
    db.execute(
        update(WebhookSignature)
        .where(WebhookSignature.signature == name)
        .values(received_at=func.now() - age)
    )


def test_signatures_past_the_replay_window_are_forgotten_and_recent_ones_kept(db: Session) -> None:
    keep(db, "old-1", age=signature.SIGNATURES_KEPT + timedelta(minutes=1))
    keep(db, "old-2", age=timedelta(days=30))
    keep(db, "recent", age=signature.SIGNATURES_KEPT - timedelta(minutes=1))
    assert signature.forget_old(db) == 2
    assert db.scalars(select(WebhookSignature.signature)).all() == ["recent"]
    assert db.scalar(signature.claim("recent")) is None  # still a replay within the window
    assert signature.forget_old(db) == 0


def test_a_long_backlog_is_forgotten_a_batch_per_pass(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signature, "FORGET_BATCH", 3)
    for i in range(7):
        keep(db, f"old-{i}", age=timedelta(days=8))
    assert [signature.forget_old(db) for _ in range(4)] == [3, 3, 1, 0]
