"""A check's state (current, expiring, lapsed) worked out in SQL on the database's clock: DBS from the
later of its certificate and its last update-service check plus the renewal setting, PVG from its date."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.check.models import BackgroundCheck, CheckLevel, CheckScheme, Workforce, renew_by, state_of
from app.check.service import Reader, list_checks, renewal_years
from app.settings import get_settings
from app.volunteer.service import organisations_named, today_uk
from tests.app.check.helpers import NUMBER, RED_CROSS, years_before
from tests.app.reserve import add_volunteer


def add_check(db: Session, volunteer_id: int, **fields: object) -> BackgroundCheck:
    [organisation] = organisations_named(db, names=[RED_CROSS])
    values: dict[str, object] = {
        "volunteer_id": volunteer_id,
        "scheme": CheckScheme.dbs,
        "level": CheckLevel.enhanced,
        "workforce": Workforce.adults,
        "certificate_number": NUMBER,
        "certificate_date": today_uk() - timedelta(days=100),
        "organisation_id": organisation.id,
        "recorded_by": "test",
    }
    values.update(fields)
    check = BackgroundCheck(**values)
    db.add(check)
    db.flush()
    return check


def state(db: Session, check: BackgroundCheck, years: int = 3) -> tuple[str, date]:
    row = db.execute(select(state_of(years), renew_by(years)).where(BackgroundCheck.id == check.id)).one()
    return row[0], row[1]


def test_a_dbs_check_counts_three_years_from_its_certificate_or_its_last_update_service_check(
    db: Session,
) -> None:
    today = today_uk()
    three_years_ago = years_before(today, 3)
    volunteer = add_volunteer(db, km=1)
    fresh = add_check(db, volunteer.id)
    soon = add_check(db, volunteer.id, certificate_date=three_years_ago + timedelta(days=10))
    old = add_check(db, volunteer.id, certificate_date=three_years_ago - timedelta(days=10))
    rechecked = add_check(
        db,
        volunteer.id,
        certificate_date=three_years_ago - timedelta(days=10),
        update_service_checked_on=today - timedelta(days=5),
    )
    assert state(db, fresh) == (
        "current",
        years_before(fresh.certificate_date, -3),
    )
    assert state(db, soon)[0] == "expiring"
    assert state(db, old)[0] == "lapsed"
    assert state(db, rechecked)[0] == "current"
    assert state(db, rechecked)[1] > today + timedelta(days=3 * 365 - 10)
    # A longer renewal interval lets the old one count again; the deployment's setting is what counts.
    assert state(db, old, years=5)[0] == "current"


def test_a_pvg_membership_is_due_on_its_renewal_date_the_day_itself_included(db: Session) -> None:
    today = today_uk()
    volunteer = add_volunteer(db, km=1)

    def pvg(renewal: date) -> BackgroundCheck:
        return add_check(
            db,
            volunteer.id,
            scheme=CheckScheme.pvg,
            level=CheckLevel.enhanced_barred,
            certificate_date=years_before(today, 4),
            pvg_renewal_on=renewal,
        )

    assert state(db, pvg(today + timedelta(days=61))) == ("current", today + timedelta(days=61))
    assert state(db, pvg(today + timedelta(days=60)))[0] == "expiring"
    assert state(db, pvg(today))[0] == "expiring"
    assert state(db, pvg(today - timedelta(days=1)))[0] == "lapsed"


def test_the_renewal_interval_is_a_setting_of_three_years_by_default(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert renewal_years() == 3
    volunteer = add_volunteer(db, km=1)
    add_check(db, volunteer.id, certificate_date=years_before(today_uk(), 4))
    reader = Reader(organisation=None, sees_all_numbers=True)
    assert [c.state for c in list_checks(db, volunteer_id=volunteer.id, reader=reader)] == ["lapsed"]
    monkeypatch.setattr(get_settings(), "check_renewal_years", 5)
    assert [c.state for c in list_checks(db, volunteer_id=volunteer.id, reader=reader)] == ["current"]
