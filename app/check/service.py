"""Recording, listing, confirming again and withdrawing a volunteer's disclosure and barring checks.

Administrators act for the whole reserve; an organisation's own token (`recorder`) sees and records
the checks of its own members only (anyone else does not exist for it: the same NotFound as an unknown
id) and changes only the checks it recorded. The certificate number is shown to administrators and
the recording organisation only. Every change is audited with ids and codes, never the number.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, select
from sqlalchemy.orm import Session

from app.audit.service import record
from app.check.models import BackgroundCheck, CheckNeed, CheckScheme, meets, renew_by, state_of
from app.check.schemas import (
    CheckCreate,
    CheckRead,
    CheckUpdate,
    CheckWithdraw,
    PassportCheck,
    dates_in_order,
)
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.organisation.models import Organisation
from app.settings import get_settings
from app.volunteer.models import Volunteer, VolunteerStatus, volunteer_organisations
from app.volunteer.service import organisations_named


@dataclass(frozen=True)
class Reader:
    """Who reads checks: an organisation (its members only, and the numbers of the checks it recorded),
    or the whole reserve (`organisation` None): an administrator sees every number, a coordinator none."""

    organisation: Organisation | None
    sees_all_numbers: bool = False


def renewal_years() -> int:
    """How many years a DBS check counts after it was last confirmed (the deployment's setting)."""
    return get_settings().check_renewal_years


def meets_need(volunteer_id: Any, need: CheckNeed, *, on: date) -> ColumnElement[bool]:
    """Whether the person holds the check a need asks for on the day `on` (for the selection query)."""
    return meets(volunteer_id, need, on=on, renewal_years=renewal_years())


def _visible(volunteer_id: Any, recorder: Organisation | None) -> ColumnElement[bool]:
    """A living volunteer, and for an organisation's token one of its members."""
    alive = exists().where(Volunteer.id == volunteer_id, Volunteer.status != VolunteerStatus.erased)
    if recorder is None:
        return alive
    member = exists().where(
        volunteer_organisations.c.volunteer_id == volunteer_id,
        volunteer_organisations.c.organisation_id == recorder.id,
    )
    return alive & member


def _volunteer(session: Session, *, volunteer_id: int, recorder: Organisation | None) -> None:
    """NotFound unless the volunteer exists for this caller."""
    if not session.scalar(select(_visible(volunteer_id, recorder))):
        raise NotFound(f"volunteer {volunteer_id} does not exist")


def _rows(years: int) -> Select[BackgroundCheck, str, date, str]:
    return select(BackgroundCheck, Organisation.name, renew_by(years), state_of(years)).join(
        Organisation, Organisation.id == BackgroundCheck.organisation_id
    )


def _read(row: Any, reader: Reader) -> CheckRead:
    check, organisation, due, state = row
    own = reader.organisation is not None and reader.organisation.id == check.organisation_id
    return CheckRead(
        id=check.id,
        volunteer_id=check.volunteer_id,
        scheme=check.scheme,
        level=check.level,
        workforce=check.workforce,
        certificate_number=check.certificate_number if reader.sees_all_numbers or own else None,
        certificate_date=check.certificate_date,
        update_service_checked_on=check.update_service_checked_on,
        pvg_renewal_on=check.pvg_renewal_on,
        renew_by=due,
        state=state,
        organisation=organisation,
        recorded_by=check.recorded_by,
        recorded_at=check.recorded_at,
        withdrawn_at=check.withdrawn_at,
        withdrawn_reason=check.withdrawn_reason,
    )


def get_check(session: Session, *, check_id: int, reader: Reader) -> CheckRead:
    """One check the reader may see; any other is NotFound."""
    row = session.execute(
        _rows(renewal_years()).where(
            BackgroundCheck.id == check_id, _visible(BackgroundCheck.volunteer_id, reader.organisation)
        )
    ).first()
    if row is None:
        raise NotFound(f"check {check_id} does not exist")
    return _read(row, reader)


def list_checks(session: Session, *, volunteer_id: int, reader: Reader) -> list[CheckRead]:
    """Every check of a volunteer, withdrawn ones included, newest certificate first."""
    _volunteer(session, volunteer_id=volunteer_id, recorder=reader.organisation)
    rows = session.execute(
        _rows(renewal_years())
        .where(BackgroundCheck.volunteer_id == volunteer_id)
        .order_by(BackgroundCheck.certificate_date.desc(), BackgroundCheck.id.desc())
    )
    return [_read(row, reader) for row in rows]


def _audit(session: Session, check: BackgroundCheck, *, actor: str, action: str, **detail: Any) -> None:
    # Ids and codes only: the number and the reason stay with the check, which erasure deletes.
    record(
        session,
        actor=actor,
        action=f"check.{action}",
        entity_type="background_check",
        entity_id=check.id,
        detail={
            "volunteer_id": check.volunteer_id,
            "scheme": check.scheme.value,
            "level": check.level.value,
            "workforce": check.workforce.value if check.workforce else None,
            "organisation_id": check.organisation_id,
            **detail,
        },
    )


def record_check(
    session: Session, *, volunteer_id: int, data: CheckCreate, actor: str, recorder: Organisation | None
) -> BackgroundCheck:
    """Record a check for a volunteer. An organisation's token records its own (403 for another
    organisation's) for its own members; an administrator names the organisation whose check it is."""
    _volunteer(session, volunteer_id=volunteer_id, recorder=recorder)
    if recorder is not None:
        if data.organisation is not None and data.organisation != recorder.name:
            raise Forbidden(f"this token records the checks of {recorder.name} only, not {data.organisation}")
        organisation = recorder
    elif data.organisation is None:
        raise InvalidInput("organisation: name the organisation whose check this is")
    else:
        organisation = organisations_named(session, names=[data.organisation])[0]
    check = BackgroundCheck(
        volunteer_id=volunteer_id,
        scheme=data.scheme,
        level=data.level,
        workforce=data.workforce,
        certificate_number=data.certificate_number,
        certificate_date=data.certificate_date,
        update_service_checked_on=data.update_service_checked_on,
        pvg_renewal_on=data.pvg_renewal_on,
        organisation_id=organisation.id,
        recorded_by=actor,
    )
    session.add(check)
    session.flush()
    _audit(session, check, actor=actor, action="recorded")
    return check


def _changeable(session: Session, *, check_id: int, recorder: Organisation | None) -> BackgroundCheck:
    """The check, locked, when this caller may change it: NotFound when it may not see it, Forbidden
    when another organisation recorded it, Conflict once withdrawn."""
    check = session.scalar(
        select(BackgroundCheck)
        .where(BackgroundCheck.id == check_id, _visible(BackgroundCheck.volunteer_id, recorder))
        .with_for_update()
    )
    if check is None:
        raise NotFound(f"check {check_id} does not exist")
    if recorder is not None and check.organisation_id != recorder.id:
        raise Forbidden(
            f"check {check_id} was recorded by another organisation: only it or an admin may change it"
        )
    if check.withdrawn_at is not None:
        raise Conflict(f"check {check_id} is withdrawn")
    return check


def update_check(
    session: Session, *, check_id: int, data: CheckUpdate, actor: str, recorder: Organisation | None
) -> BackgroundCheck:
    """Confirm a check again: a DBS certificate re-checked on the update service, or a PVG membership's
    new renewal date. Each field belongs to its own scheme (422 on the other)."""
    check = _changeable(session, check_id=check_id, recorder=recorder)
    if check.scheme is CheckScheme.pvg and data.update_service_checked_on is not None:
        raise InvalidInput("update_service_checked_on: the DBS update service does not cover PVG")
    if check.scheme is CheckScheme.dbs and data.pvg_renewal_on is not None:
        raise InvalidInput("pvg_renewal_on: only a PVG scheme membership has a renewal date")
    try:
        dates_in_order(check.certificate_date, data.update_service_checked_on, data.pvg_renewal_on)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    changed: dict[str, str] = {}
    if data.update_service_checked_on is not None:
        check.update_service_checked_on = data.update_service_checked_on
        changed["update_service_checked_on"] = data.update_service_checked_on.isoformat()
    if data.pvg_renewal_on is not None:
        check.pvg_renewal_on = data.pvg_renewal_on
        changed["pvg_renewal_on"] = data.pvg_renewal_on.isoformat()
    session.flush()
    _audit(session, check, actor=actor, action="updated", **changed)
    return check


def withdraw_check(
    session: Session, *, check_id: int, data: CheckWithdraw, actor: str, recorder: Organisation | None
) -> BackgroundCheck:
    """Withdraw a check with a reason: it stays on record and counts for no need from now on."""
    check = _changeable(session, check_id=check_id, recorder=recorder)
    check.withdrawn_at = session.execute(select(func.now())).scalar_one()
    check.withdrawn_reason = data.reason
    session.flush()
    _audit(session, check, actor=actor, action="withdrawn")
    return check


def passport_checks(session: Session, *, volunteer_id: int) -> list[PassportCheck]:
    """The volunteer's checks for their own page: not withdrawn, newest first, without numbers."""
    years = renewal_years()
    rows = session.execute(
        select(BackgroundCheck, renew_by(years), state_of(years))
        .where(BackgroundCheck.volunteer_id == volunteer_id, BackgroundCheck.withdrawn_at.is_(None))
        .order_by(BackgroundCheck.certificate_date.desc(), BackgroundCheck.id.desc())
    )
    return [
        PassportCheck(scheme=c.scheme, level=c.level, workforce=c.workforce, state=state, renew_by=due)
        for c, due, state in rows
    ]


def erase_checks(session: Session, *, volunteer_id: int) -> int:
    """Delete a person's checks (numbers, dates, withdrawal reasons) when they are erased: their row is
    kept, emptied, so nothing cascades. Returns how many went; the audit keeps ids and levels only."""
    gone = session.execute(
        delete(BackgroundCheck)
        .where(BackgroundCheck.volunteer_id == volunteer_id)
        .returning(BackgroundCheck.id)
    )
    return len(gone.all())
