"""The bulk insert and the array lookup a surge relies on: rows land as given, ids line up with them,
every column type survives the trip through text, and nothing too long is silently cut."""

from datetime import UTC, datetime, timedelta

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.db import among, insert_rows
from app.signup.models import Signup, SignupState
from app.volunteer import service as reserve
from app.volunteer.schemas import GeoPoint


def signup_row(i: int, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "token": f"token-{i:037d}",
        "state": SignupState.pending,
        "phone": f"+4479111{i:05d}",
        "volunteer_id": None,
        "details": {"name": f"Person {i}", "skills": ["first_aid"], "note": "quote ' and \" and ü"},
        "location": reserve.point_element(GeoPoint(type="Point", coordinates=[-2.9 - i / 1000, 54.89])),
        "max_travel_km": 12.5 + i,
        "consent_version": "2026-12",
        "marketing": i % 2 == 0,
        "client": None,
    }
    return row | changes


def test_rows_are_written_as_given_and_their_ids_line_up(db: Session) -> None:
    rows = [signup_row(i) for i in range(300)]
    ids = insert_rows(db, Signup, rows)
    assert len(ids) == 300 and ids == sorted(ids)
    for signup_id, row in zip(ids, rows, strict=True):
        kept = db.get_one(Signup, signup_id)
        assert kept.token == row["token"] and kept.phone == row["phone"]
        assert kept.state is SignupState.pending and kept.marketing is row["marketing"]
        assert kept.details == row["details"] and kept.max_travel_km == row["max_travel_km"]
        assert kept.client is None and kept.created_at is not None
        point = to_shape(kept.location)  # type: ignore[arg-type]
        assert (round(point.x, 6), round(point.y, 6)) == (round(-2.9 - ids.index(signup_id) / 1000, 6), 54.89)


def test_times_keep_their_zone(db: Session) -> None:
    from app.signup.models import PhoneCode

    when = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC) + timedelta(hours=1)
    [code_id] = insert_rows(
        db,
        PhoneCode,
        [
            {
                "phone": "+447911100001",
                "purpose": "signup",
                "code_hash": "h" * 64,
                "expires_at": when,
                "attempts": 0,
            }
        ],
    )
    assert db.get_one(PhoneCode, code_id).expires_at == when


def test_a_value_too_long_for_its_column_is_refused_not_cut(db: Session) -> None:
    with pytest.raises(DBAPIError, match="too long"):
        insert_rows(db, Signup, [signup_row(1), signup_row(2, phone="+44" + "7" * 30)])


def test_nothing_to_insert_is_no_statement(db: Session) -> None:
    assert insert_rows(db, Signup, []) == []


def test_among_finds_the_values_given_whatever_their_number(db: Session) -> None:
    ids = insert_rows(db, Signup, [signup_row(i) for i in range(5)])
    phones = [f"+4479111{i:05d}" for i in range(5)]
    for wanted in (phones[:1], phones[1:4], [*phones, "+447911199999", phones[0]]):
        found = db.scalars(select(Signup.id).where(among(Signup.phone, wanted))).all()
        assert sorted(found) == [ids[phones.index(p)] for p in sorted(set(wanted)) if p in phones]
    assert db.scalars(select(Signup.id).where(among(Signup.phone, []))).all() == []
