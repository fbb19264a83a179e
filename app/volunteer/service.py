"""The reserve's service functions: session first, keyword-only after; they flush, callers commit."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, selectinload

from app.audit.service import record
from app.db import among
from app.errors import Conflict, InvalidInput, NotFound
from app.organisation.models import Organisation
from app.settings import get_settings
from app.skill.models import Skill
from app.volunteer.models import (
    AvailabilityWindow,
    Credential,
    CredentialStatus,
    ErasedPhone,
    UnavailablePeriod,
    Volunteer,
    VolunteerStatus,
)
from app.volunteer.phone import phone_fingerprint
from app.volunteer.schemas import (
    CredentialCreate,
    CredentialRead,
    GeoPoint,
    UnavailableCreate,
    UnavailableRead,
    VolunteerCreate,
    VolunteerRead,
    VolunteerUpdate,
    WindowCreate,
    WindowRead,
)
from geo.geojson import to_geojson
from geo.sql import distance_km, geog_from_ewkt, within_km

UK = ZoneInfo("Europe/London")
ERASED_NAME = "(erased)"
# How far ahead of our clock a client's "consented now" may be.
CLOCK_SKEW = timedelta(minutes=5)


def today_uk() -> date:
    """Today's date in the UK, which is when credentials expire."""
    return datetime.now(UK).date()


def point_element(point: GeoPoint) -> WKBElement:
    """A geography value for a GeoJSON point."""
    return from_shape(Point(point.lon, point.lat), srid=4326)


def known_skills(session: Session) -> set[str]:
    """Every skill code in the managed catalogue."""
    return set(session.scalars(select(Skill.code)))


def check_skill_codes(session: Session, codes: Sequence[str]) -> None:
    """Refuse skill codes that are not in the catalogue, naming them and the valid ones."""
    catalogue = known_skills(session)
    unknown = sorted(set(codes) - catalogue)
    if unknown:
        raise InvalidInput(
            f"unknown skill code(s): {', '.join(unknown)}; known codes: {', '.join(sorted(catalogue))}"
        )


def phone_owner(session: Session, *, phone: str) -> int | None:
    """The id of the volunteer holding this phone, if any."""
    return phone_owners(session, phones=[phone]).get(phone)


def phone_owners(session: Session, *, phones: Sequence[str]) -> dict[str, int]:
    """The volunteers holding any of these phones, by phone, in one query."""
    rows = session.execute(select(Volunteer.phone, Volunteer.id).where(among(Volunteer.phone, phones)))
    return {str(phone): volunteer_id for phone, volunteer_id in rows}


def organisations_named(session: Session, *, names: Sequence[str]) -> list[Organisation]:
    """Organisations by name, creating the ones not seen before."""
    wanted = sorted({n.strip() for n in names if n.strip()})
    if not wanted:
        return []
    found = {o.name: o for o in session.scalars(select(Organisation).where(Organisation.name.in_(wanted)))}
    for name in wanted:
        if name not in found:
            found[name] = Organisation(name=name)
            session.add(found[name])
    session.flush()
    return [found[n] for n in wanted]


def _credentials(
    session: Session, items: Sequence[CredentialCreate], current: Sequence[Credential] = ()
) -> list[Credential]:
    """The passport as given; an entry for a skill already held is updated in place (renewed) rather
    than inserted beside the old one, which one-entry-per-skill forbids. A new entry, and one whose
    level, expiry or issuer changed, is a claim: pending until an organisation verifies it; one given
    again unchanged keeps its status."""
    check_skill_codes(session, [c.code for c in items])
    issuers = {
        o.name: o for o in organisations_named(session, names=[c.issued_by for c in items if c.issued_by])
    }
    held = {c.skill_code: c for c in current}
    passport = []
    for item in items:
        credential = held.get(item.code) or Credential(skill_code=item.code, status=CredentialStatus.pending)
        issuer = issuers[item.issued_by.strip()] if item.issued_by else None
        claim = (item.level, item.expires_on, issuer.id if issuer else None)
        if credential.id is not None and claim != (
            credential.level,
            credential.expires_on,
            credential.issued_by_id,
        ):
            credential.status = CredentialStatus.pending
            credential.status_at = func.now()
            credential.verified_by = None
            credential.verified_at = None
        credential.level = item.level
        if credential.expires_on != item.expires_on:
            credential.expiry_reminded_days = None  # a renewed credential is reminded afresh
        credential.expires_on = item.expires_on
        credential.issuer = issuer
        passport.append(credential)
    return passport


def _windows(items: Sequence[WindowCreate]) -> list[AvailabilityWindow]:
    return [AvailabilityWindow(weekday=w.weekday, starts=w.starts, ends=w.ends) for w in items]


def _periods(items: Sequence[UnavailableCreate]) -> list[UnavailablePeriod]:
    return [UnavailablePeriod(starts_at=p.starts_at, ends_at=p.ends_at, reason=p.reason) for p in items]


def erasure_key() -> str:
    """The secret that keys phone fingerprints."""
    return get_settings().erasure_key


def erased_phones(session: Session, *, phones: Sequence[str]) -> dict[str, datetime]:
    """Which of these phones belonged to an erased volunteer, and when they were erased."""
    key = erasure_key()
    by_print = {phone_fingerprint(p, key=key): p for p in phones}
    found: dict[str, datetime] = {}
    prints = list(by_print)
    for start in range(0, len(prints), 5000):
        rows = session.execute(
            select(ErasedPhone.fingerprint, ErasedPhone.erased_at).where(
                ErasedPhone.fingerprint.in_(prints[start : start + 5000])
            )
        )
        found.update((by_print[fingerprint], at) for fingerprint, at in rows)
    return found


def fresh_consent(consent_at: datetime | None, erased_at: datetime) -> bool:
    """Consent given after the erasure and not in the future (a time without an offset is UTC)."""
    if consent_at is None:
        return False
    given = consent_at if consent_at.tzinfo else consent_at.replace(tzinfo=UTC)
    return erased_at < given <= datetime.now(UTC) + CLOCK_SKEW


def erased_phone_problem(phone: str) -> str:
    """Why a phone of an erased volunteer is refused, and how to register them again."""
    return (
        f"{phone} belonged to a volunteer who was erased; register them again only with their fresh "
        "consent: give consent_at, the time they consented, which must be after the erasure"
    )


def forget_erasures(session: Session, *, phones: Sequence[str]) -> None:
    """Drop the fingerprints of erased people who came back with fresh consent."""
    key = erasure_key()
    prints = [phone_fingerprint(p, key=key) for p in phones]
    if prints:
        session.execute(delete(ErasedPhone).where(ErasedPhone.fingerprint.in_(prints)))


def create_volunteer(session: Session, *, data: VolunteerCreate, actor: str) -> Volunteer:
    """Add a volunteer with their passport and availability; a phone already held is a conflict, and so
    is the phone of an erased volunteer unless they consented again after the erasure."""
    if phone_owner(session, phone=data.phone) is not None:
        raise Conflict(f"phone {data.phone} already belongs to another volunteer")
    erased_at = erased_phones(session, phones=[data.phone]).get(data.phone)
    if erased_at is not None:
        if not fresh_consent(data.consent_at, erased_at):
            raise Conflict(erased_phone_problem(data.phone))
        forget_erasures(session, phones=[data.phone])
    volunteer = Volunteer(
        name=data.name.strip(),
        phone=data.phone,
        location=point_element(data.location),
        max_travel_km=data.max_travel_km,
        status=VolunteerStatus(data.status),
        consent_at=data.consent_at,
        languages=data.languages,
        credentials=_credentials(session, data.skills),
        windows=_windows(data.availability),
        unavailable=_periods(data.unavailable),
        organisations=organisations_named(session, names=data.organisations),
    )
    session.add(volunteer)
    session.flush()
    record(
        session,
        actor=actor,
        action="volunteer.created",
        entity_type="volunteer",
        entity_id=volunteer.id,
        detail={"after_erasure": True} if erased_at is not None else None,
    )
    return volunteer


LOAD_ALL = (
    selectinload(Volunteer.credentials).selectinload(Credential.issuer),
    selectinload(Volunteer.windows),
    selectinload(Volunteer.unavailable),
    selectinload(Volunteer.organisations),
)


def _load(session: Session, volunteer_id: int, *, for_update: bool = False) -> Volunteer:
    query = (
        select(Volunteer)
        .where(Volunteer.id == volunteer_id, Volunteer.status != VolunteerStatus.erased)
        .options(*LOAD_ALL)
    )
    if for_update:
        query = query.with_for_update(of=Volunteer)
    volunteer = session.scalar(query)
    if volunteer is None:
        raise NotFound(f"volunteer {volunteer_id} does not exist")
    return volunteer


def get_volunteer(session: Session, *, volunteer_id: int, for_update: bool = False) -> Volunteer:
    """One volunteer with passport and availability loaded (and locked, `for_update`); erased volunteers
    are gone."""
    return _load(session, volunteer_id, for_update=for_update)


def update_volunteer(session: Session, *, volunteer_id: int, data: VolunteerUpdate, actor: str) -> Volunteer:
    """Apply a partial update; lists given replace the stored ones; an opt-out is the volunteer's to undo."""
    volunteer = _load(session, volunteer_id, for_update=True)
    changed = data.model_dump(exclude_unset=True)
    if data.status not in (None, VolunteerStatus.opted_out) and volunteer.status is VolunteerStatus.opted_out:
        raise Conflict(
            f"volunteer {volunteer_id} has opted out of messages; only they can opt back in, by texting START"
        )
    if data.phone is not None and data.phone != volunteer.phone:
        owner = phone_owner(session, phone=data.phone)
        if owner is not None and owner != volunteer_id:
            raise Conflict(f"phone {data.phone} already belongs to another volunteer")
        volunteer.phone = data.phone
        volunteer.phone_failed_at = None  # a new number is tried afresh
        volunteer.phone_failure_code = None
    if data.name is not None:
        volunteer.name = data.name.strip()
    if data.location is not None:
        volunteer.location = point_element(data.location)
    if "max_travel_km" in changed:
        volunteer.max_travel_km = data.max_travel_km
    if data.languages is not None:
        volunteer.languages = data.languages
    if data.skills is not None:
        volunteer.credentials = _credentials(session, data.skills, volunteer.credentials)
    if data.availability is not None:
        volunteer.windows = _windows(data.availability)
    if data.unavailable is not None:
        volunteer.unavailable = _periods(data.unavailable)
    if data.organisations is not None:
        volunteer.organisations = organisations_named(session, names=data.organisations)
    if data.status is not None:
        set_status(volunteer, VolunteerStatus(data.status))
    session.flush()
    record(
        session,
        actor=actor,
        action="volunteer.updated",
        entity_type="volunteer",
        entity_id=volunteer_id,
        detail={"fields": sorted(changed)},
    )
    return volunteer


def set_status(volunteer: Volunteer, status: VolunteerStatus) -> None:
    """Change status, keeping the opt-out time in step."""
    if status is VolunteerStatus.opted_out and volunteer.status is not VolunteerStatus.opted_out:
        volunteer.opted_out_at = datetime.now(UTC)
    if status is not VolunteerStatus.opted_out:
        volunteer.opted_out_at = None
    volunteer.status = status


def confirm_available(volunteer: Volunteer) -> None:
    """The volunteer told us they can still be called (YES, PAUSE, BACK): the yearly check starts again."""
    volunteer.available_confirmed_at = datetime.now(UTC)
    volunteer.available_asked_at = None


def erase_profile(session: Session, *, volunteer: Volunteer) -> None:
    """Empty a volunteer's row of personal data, keeping it (and a keyed fingerprint of the phone) so the
    audit trail still links and an import cannot silently bring them back."""
    if volunteer.phone is not None:
        fingerprint = phone_fingerprint(volunteer.phone, key=erasure_key())
        session.execute(
            insert(ErasedPhone)
            .values(fingerprint=fingerprint, erased_at=func.now())
            .on_conflict_do_update(index_elements=[ErasedPhone.fingerprint], set_={"erased_at": func.now()})
        )
    volunteer.name = ERASED_NAME
    volunteer.phone = None
    volunteer.location = None
    volunteer.max_travel_km = None
    volunteer.consent_at = None
    volunteer.opted_out_at = None
    volunteer.last_called_at = None
    volunteer.languages = []
    volunteer.credentials = []
    volunteer.windows = []
    volunteer.unavailable = []
    volunteer.organisations = []
    volunteer.status = VolunteerStatus.erased
    volunteer.erased_at = datetime.now(UTC)
    session.flush()


def list_volunteers(
    session: Session,
    *,
    skill: str | None = None,
    near: GeoPoint | None = None,
    within: float | None = None,
    status: VolunteerStatus | None = None,
    phone_failed: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Volunteer, float | None]], int]:
    """A page of volunteers, optionally holding a valid skill and within `within` km of `near`, or
    only those whose number failed for good (`phone_failed`), for an administrator to correct."""
    conditions: list[Any] = [Volunteer.status != VolunteerStatus.erased]
    if status is not None:
        conditions.append(Volunteer.status == status)
    if phone_failed is not None:
        failed = Volunteer.phone_failed_at.is_not(None)
        conditions.append(failed if phone_failed else ~failed)
    if skill is not None:
        check_skill_codes(session, [skill])
        valid = select(Credential.id).where(
            Credential.volunteer_id == Volunteer.id,
            Credential.skill_code == skill,
            (Credential.expires_on.is_(None)) | (Credential.expires_on >= today_uk()),
        )
        conditions.append(valid.exists())
    distance = None
    if near is not None:
        centre = geog_from_ewkt(f"SRID=4326;POINT({near.lon} {near.lat})")
        distance = distance_km(Volunteer.location, centre)
        if within is not None:
            conditions.append(within_km(Volunteer.location, centre, within))
    total = session.scalar(select(func.count()).select_from(Volunteer).where(*conditions)) or 0
    if distance is None:
        query = select(Volunteer).where(*conditions).order_by(Volunteer.id)
        page = session.scalars(query.options(*LOAD_ALL).limit(limit).offset(offset)).all()
        return [(v, None) for v in page], total
    ranked = select(Volunteer, distance).where(*conditions).order_by(distance, Volunteer.id)
    rows = session.execute(ranked.options(*LOAD_ALL).limit(limit).offset(offset)).all()
    return [(v, float(d)) for v, d in rows], total


def to_read(volunteer: Volunteer, *, distance: float | None = None) -> VolunteerRead:
    """The API shape of a loaded volunteer."""
    today = today_uk()
    return VolunteerRead(
        id=volunteer.id,
        name=volunteer.name,
        phone=volunteer.phone,
        location=to_geojson(to_shape(volunteer.location)) if volunteer.location is not None else None,
        max_travel_km=volunteer.max_travel_km,
        status=volunteer.status,
        consent_at=volunteer.consent_at,
        languages=list(volunteer.languages),
        organisations=sorted(o.name for o in volunteer.organisations),
        skills=[
            CredentialRead(
                code=c.skill_code,
                level=c.level,
                expires_on=c.expires_on,
                issued_by=c.issuer.name if c.issuer else None,
                status=c.status,
                verified_by=c.verified_by,
                verified_at=c.verified_at,
                validity=c.validity,
                valid=c.expires_on is None or c.expires_on >= today,
            )
            for c in volunteer.credentials
        ],
        availability=[WindowRead(weekday=w.weekday, starts=w.starts, ends=w.ends) for w in volunteer.windows],
        unavailable=[
            UnavailableRead(starts_at=p.starts_at, ends_at=p.ends_at, reason=p.reason)
            for p in volunteer.unavailable
        ],
        last_called_at=volunteer.last_called_at,
        paused_until=volunteer.paused_until,
        phone_failed_at=volunteer.phone_failed_at,
        phone_failure_code=volunteer.phone_failure_code,
        created_at=volunteer.created_at,
        updated_at=volunteer.updated_at,
        distance_km=distance,
    )
