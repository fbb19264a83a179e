"""The engine's flows: what declaring an incident, changing its needs or pausing a volunteer does to
call-ups. Routes, the CLI and jobs call these; they span the incident, the reserve and the call-ups.
"""

from sqlalchemy.orm import Session

from app.audit.service import record
from app.callout import service as callouts
from app.errors import InvalidInput
from app.incident.models import Incident, IncidentStatus
from app.incident.schemas import IncidentCreate, IncidentUpdate
from app.incident.service import create_incident, lock_incident, needs_of
from app.settings import Settings
from app.volunteer import service as volunteers
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.schemas import VolunteerUpdate

UNCALLABLE = (VolunteerStatus.paused, VolunteerStatus.opted_out)


def declare_incident(session: Session, *, data: IncidentCreate, actor: str, settings: Settings) -> Incident:
    """Create an incident with its needs and call the first wave at once."""
    incident = create_incident(session, data=data, actor=actor, settings=settings)
    callouts.run_wave(session, incident_id=incident.id, force=True)
    return incident


def update_incident(session: Session, *, incident_id: int, data: IncidentUpdate, actor: str) -> Incident:
    """Change need counts (calling more or standing down the surplus) and notes."""
    incident = lock_incident(session, incident_id)
    if incident.status is IncidentStatus.closed:
        raise InvalidInput(f"incident {incident_id} is closed")
    needs = {n.skill_code: n for n in needs_of(session, incident_id)}
    unknown = sorted({u.skill for u in data.needs} - set(needs))
    if unknown:
        raise InvalidInput(f"incident {incident_id} has no need for: {', '.join(unknown)}")
    for change in data.needs:
        need = needs[change.skill]
        before = need.count
        callouts.change_count(session, incident=incident, need=need, count=change.count)
        record(
            session,
            actor=actor,
            action="need.count_changed",
            entity_type="incident",
            entity_id=incident_id,
            detail={"skill": change.skill, "from": before, "to": change.count},
        )
    if data.notes is not None:
        incident.notes = data.notes
    session.flush()
    return incident


def update_volunteer(session: Session, *, volunteer_id: int, data: VolunteerUpdate, actor: str) -> Volunteer:
    """A PATCH; pausing or opting someone out releases their call-ups (a paused person is told)."""
    if data.status in UNCALLABLE:
        callouts.lock_engagements(session, volunteer_id=volunteer_id)
    volunteer = volunteers.update_volunteer(session, volunteer_id=volunteer_id, data=data, actor=actor)
    if volunteer.status in UNCALLABLE and data.status is not None:
        callouts.release_volunteer(
            session,
            volunteer_id=volunteer_id,
            reason=volunteer.status.value.replace("_", " "),
            notify=volunteer.status is VolunteerStatus.paused,
        )
    return volunteer
