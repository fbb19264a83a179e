"""Disclosure and barring checks on the passport: recorded, listed, confirmed again and withdrawn.

Admins act for the whole reserve; an organisation's verifier token for its own members only (anyone
else is the same 404 as an unknown id) and changes only the checks its organisation recorded. A
coordinator may list checks, never with their certificate numbers; only admins and the recording
organisation see those.
"""

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from app.api.deps import CheckRecorderToken, RecorderToken, SessionDep
from app.api.params import Id
from app.auth.models import ApiToken, Role
from app.auth.service import actor_of
from app.check import service
from app.check.schemas import CheckCreate, CheckRead, CheckUpdate, CheckWithdraw
from app.passport.service import acting_for

router = APIRouter(prefix="/api/v1/passport", tags=["passport"])

CHANGES: dict[int | str, dict[str, Any]] = {409: {"description": "The check is withdrawn"}}


def _reader(session: Session, token: ApiToken) -> service.Reader:
    return service.Reader(organisation=acting_for(session, token), sees_all_numbers=token.role is Role.admin)


@router.post("/volunteers/{volunteer_id}/checks", status_code=status.HTTP_201_CREATED)
def record_check(
    volunteer_id: Id, data: CheckCreate, session: SessionDep, token: CheckRecorderToken
) -> CheckRead:
    """Record a DBS check or PVG membership for a volunteer; an organisation's token records its own."""
    check = service.record_check(
        session,
        volunteer_id=volunteer_id,
        data=data,
        actor=actor_of(token),
        recorder=acting_for(session, token),
    )
    return service.get_check(session, check_id=check.id, reader=_reader(session, token))


@router.get("/volunteers/{volunteer_id}/checks")
def list_checks(volunteer_id: Id, session: SessionDep, token: RecorderToken) -> list[CheckRead]:
    """A volunteer's checks, withdrawn ones too, each with its state on the renewal clock."""
    return service.list_checks(session, volunteer_id=volunteer_id, reader=_reader(session, token))


@router.patch("/checks/{check_id}", responses=CHANGES)
def update_check(
    check_id: Id, data: CheckUpdate, session: SessionDep, token: CheckRecorderToken
) -> CheckRead:
    """Confirm a check again: the DBS update service re-checked, or a PVG membership renewed."""
    service.update_check(
        session, check_id=check_id, data=data, actor=actor_of(token), recorder=acting_for(session, token)
    )
    return service.get_check(session, check_id=check_id, reader=_reader(session, token))


@router.post("/checks/{check_id}/withdraw", responses=CHANGES)
def withdraw_check(
    check_id: Id, data: CheckWithdraw, session: SessionDep, token: CheckRecorderToken
) -> CheckRead:
    """Withdraw a check, with why: it stays on record and no need counts it from now on."""
    service.withdraw_check(
        session, check_id=check_id, data=data, actor=actor_of(token), recorder=acting_for(session, token)
    )
    return service.get_check(session, check_id=check_id, reader=_reader(session, token))
