"""The engine's flows: what declaring an incident, changing its needs or pausing a volunteer does to
call-ups. Routes, the CLI and jobs call these; they span the incident, the reserve and the call-ups.
"""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.audit.service import record
from app.callout import service as callouts
from app.errors import InvalidInput
from app.incident.models import Incident, Need
from app.incident.schemas import AskCreate, IncidentCreate, IncidentUpdate, NeedUpdate, RendezvousCreate
from app.incident.service import asking_organisation, create_incident, needs_of
from app.organisation.models import Organisation
from app.settings import Settings
from app.volunteer import service as volunteers
from app.volunteer.models import Volunteer, VolunteerStatus
from app.volunteer.schemas import VolunteerUpdate
from app.volunteer.service import check_skill_codes, point_element

UNCALLABLE = (VolunteerStatus.paused, VolunteerStatus.opted_out)


def declare_incident(
    session: Session,
    *,
    data: IncidentCreate,
    actor: str,
    settings: Settings,
    emergency: bool = True,
    organisation_id: int | None = None,
) -> Incident:
    """Create an incident with its needs and call the first wave at once (an organisation's ask: one
    that is not an `emergency`)."""
    incident = create_incident(
        session,
        data=data,
        actor=actor,
        settings=settings,
        emergency=emergency,
        organisation_id=organisation_id,
    )
    callouts.run_wave(session, incident_id=incident.id, force=True)
    return incident


def post_ask(
    session: Session, *, data: AskCreate, recorder: Organisation | None, actor: str, settings: Settings
) -> Incident:
    """An organisation's ask for help that is not an emergency, declared as an incident and called up
    in the same waves; an organisation's own token (`recorder`) asks for itself only."""
    organisation = asking_organisation(session, named=data.organisation, recorder=recorder)
    return declare_incident(
        session, data=data, actor=actor, settings=settings, emergency=False, organisation_id=organisation.id
    )


def update_incident(
    session: Session, *, incident_id: int, data: IncidentUpdate, actor: str, settings: Settings
) -> Incident:
    """A coordinator's changes to an open incident, each an audit event: the search's reach, the
    rendezvous (texted to everyone confirmed), need counts (calling more, asking again those stood
    down, or standing down the surplus), new needs, notes. Everything is checked before anything changes."""
    incident = callouts.lock_open_incident(session, incident_id)
    needs = {n.skill_code: n for n in needs_of(session, incident_id)}
    added = [n for n in data.needs if n.skill not in needs]
    check_skill_codes(session, [n.skill for n in added])
    max_radius = data.max_radius_km if data.max_radius_km is not None else incident.max_radius_km
    searched = max([n.search_radius_km for n in needs.values()] + [incident.radius_km])
    if data.max_radius_km is not None and max_radius > settings.max_radius_km:
        raise InvalidInput(f"max_radius_km {max_radius} is beyond this deployment's {settings.max_radius_km}")
    if data.radius_km is not None and data.radius_km < incident.radius_km:
        raise InvalidInput(
            f"radius_km {data.radius_km} is below the current {incident.radius_km}: it only widens"
        )
    if data.radius_km is not None and data.radius_km > max_radius:
        raise InvalidInput(f"radius_km {data.radius_km} is beyond max_radius_km {max_radius}")
    if max_radius < searched:
        raise InvalidInput(f"max_radius_km {max_radius} is below the {searched} km already searched")
    now = datetime.now(UTC)
    reach_changed = _change_reach(
        session, incident=incident, data=data, needs=list(needs.values()), actor=actor
    )
    if data.rendezvous is not None:
        _move_rendezvous(session, incident=incident, rendezvous=data.rendezvous, actor=actor)
    if data.notes is not None:
        incident.notes = data.notes
    for change in data.needs:
        need = needs.get(change.skill)
        if need is None:
            need = Need(
                incident_id=incident_id,
                skill_code=change.skill,
                count=change.count,
                search_radius_km=incident.radius_km,
                waves=0,
                check_level=change.check_level,
                check_workforce=change.check_workforce,
            )
            session.add(need)
            session.flush()
            record(
                session,
                actor=actor,
                action="need.added",
                entity_type="incident",
                entity_id=incident_id,
                detail={"skill": change.skill, "count": change.count, **_check_detail(need)},
            )
            callouts.settle_need(session, incident=incident, need=need)
            continue
        _change_check(session, need=need, change=change, actor=actor)
        before = need.count
        if before == change.count:
            continue
        callouts.change_count(session, incident=incident, need=need, count=change.count)
        record(
            session,
            actor=actor,
            action="need.count_changed",
            entity_type="incident",
            entity_id=incident_id,
            detail={"skill": change.skill, "from": before, "to": change.count},
        )
    if reach_changed:
        for need in needs.values():
            if need.filled_at is None:
                callouts.top_up(session, incident=incident, need=need, now=now)
    if incident.next_wave_at is None and any(n.filled_at is None for n in needs_of(session, incident_id)):
        callouts.schedule_wave(session, incident=incident, now=now)
    session.flush()
    return incident


def _check_detail(need: Need) -> dict[str, str | None]:
    return {
        "check_level": need.check_level.value if need.check_level else None,
        "check_workforce": need.check_workforce.value if need.check_workforce else None,
    }


def _change_check(session: Session, *, need: Need, change: NeedUpdate, actor: str) -> None:
    """A need's check replaced (when the change names one): it applies to whoever is called next."""
    if not {"check_level", "check_workforce"} & change.model_fields_set:
        return
    before = _check_detail(need)
    need.check_level, need.check_workforce = change.check_level, change.check_workforce
    if _check_detail(need) != before:
        record(
            session,
            actor=actor,
            action="need.check_changed",
            entity_type="incident",
            entity_id=need.incident_id,
            detail={"skill": need.skill_code, "from": before, "to": _check_detail(need)},
        )


def _change_reach(
    session: Session, *, incident: Incident, data: IncidentUpdate, needs: list[Need], actor: str
) -> bool:
    """Widen the search and its maximum; an exhausted need may find people again. True if either grew."""
    changed = False
    if data.max_radius_km is not None and data.max_radius_km != incident.max_radius_km:
        record(
            session,
            actor=actor,
            action="incident.max_radius_changed",
            entity_type="incident",
            entity_id=incident.id,
            detail={"from_km": incident.max_radius_km, "to_km": data.max_radius_km},
        )
        changed = data.max_radius_km > incident.max_radius_km
        incident.max_radius_km = data.max_radius_km
    if data.radius_km is not None and data.radius_km > incident.radius_km:
        record(
            session,
            actor=actor,
            action="incident.radius_widened",
            entity_type="incident",
            entity_id=incident.id,
            detail={"from_km": incident.radius_km, "to_km": data.radius_km},
        )
        incident.radius_km = data.radius_km
        for need in needs:
            need.search_radius_km = max(need.search_radius_km, data.radius_km)
        changed = True
    if changed:
        for need in needs:
            need.exhausted_at = None
    return changed


def _move_rendezvous(
    session: Session, *, incident: Incident, rendezvous: RendezvousCreate, actor: str
) -> None:
    """Move the rendezvous and text everyone confirmed where to go now."""
    before = incident.rendezvous_text
    incident.rendezvous_point = point_element(rendezvous.point)
    incident.rendezvous_text = rendezvous.text
    session.flush()
    told = callouts.tell_rendezvous_moved(session, incident=incident)
    record(
        session,
        actor=actor,
        action="incident.rendezvous_moved",
        entity_type="incident",
        entity_id=incident.id,
        detail={"from": before, "to": rendezvous.text, "point": rendezvous.point.coordinates, "texted": told},
    )


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
