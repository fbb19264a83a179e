"""The welfare check: everyone who was deployed is asked, after DONE or when the incident closes,
whether they are safe and home; an OK closes it, silence brings a coordinator's call (app.inbox)."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import text
from app.audit.service import record
from app.callout.models import Callout
from app.incident.models import Incident
from app.message.models import MessageKind
from app.message.service import outbound, queue_all
from app.volunteer.models import Volunteer, VolunteerStatus

SYSTEM = "system"


def ask_welfare(session: Session, *, callout_ids: Sequence[int], after_done: bool = False) -> int:
    """Text each call-up's volunteer "Are you safe and home? Reply OK", once; returns how many were asked.

    A call-up already asked (or answered) is skipped, so closing after a DONE does not ask twice.
    """
    if not callout_ids:
        return 0
    rows = session.execute(
        select(Callout, Volunteer, Incident)
        .join(Volunteer, Volunteer.id == Callout.volunteer_id)
        .join(Incident, Incident.id == Callout.incident_id)
        .where(Callout.id.in_(list(callout_ids)), Callout.welfare_asked_at.is_(None))
        .order_by(Callout.id)
    ).all()
    now = datetime.now(UTC)
    texts = []
    for callout, volunteer, incident in rows:
        if volunteer.phone is None or volunteer.status is VolunteerStatus.erased:
            continue  # nobody to ask: an erased person is not chased
        callout.welfare_asked_at = now
        body = text.welfare_check_text(
            ref=incident.id, after_done=after_done, exercise=incident.exercise, emergency=incident.emergency
        )
        texts.append(
            outbound(
                volunteer_id=volunteer.id,
                to=volunteer.phone,
                kind=MessageKind.welfare_check,
                body=body,
                callout_id=callout.id,
                incident_id=incident.id,
            )
        )
    if texts:
        queue_all(session, texts)
    session.flush()
    for incident_id in sorted({incident.id for _, _, incident in rows}):
        record(
            session,
            actor=SYSTEM,
            action="welfare.asked",
            entity_type="incident",
            entity_id=incident_id,
            detail={"callouts": [c.id for c, _, i in rows if i.id == incident_id]},
        )
    return len(texts)


def pending_welfare(session: Session, *, volunteer_id: int) -> list[Callout]:
    """The volunteer's call-ups whose welfare check is asked and not yet answered, newest first."""
    return list(
        session.scalars(
            select(Callout)
            .where(
                Callout.volunteer_id == volunteer_id,
                Callout.welfare_asked_at.is_not(None),
                Callout.welfare_ok_at.is_(None),
            )
            .order_by(Callout.welfare_asked_at.desc())
        )
    )


def answer_welfare(session: Session, *, callouts: Sequence[Callout], actor: str) -> None:
    """An OK: every pending welfare check of the volunteer is answered."""
    now = datetime.now(UTC)
    for callout in callouts:
        callout.welfare_ok_at = now
    session.flush()
    for callout in callouts:  # one event per call-up, so each incident's timeline shows its own
        record(
            session,
            actor=actor,
            action="welfare.ok",
            entity_type="callout",
            entity_id=callout.id,
            detail={"incident_id": callout.incident_id},
        )
