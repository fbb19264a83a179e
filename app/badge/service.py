"""Issuing, signing, revoking and checking the passport's credentials, and the volunteers' own links.

A credential counts as verified when an organisation verified it (`verified_at` is set exactly then)
and it has not expired. Each export issues what changed: a live issue whose facts still match is
signed again as it was; one whose entry changed, lapsed or went is revoked (a database trigger revokes
at once when an entry is deleted, changed or its holder erased, whoever does it). Hours and milestones
are the passport's own (app/activity: deployments and organisations' activities); the hours
credential takes any `HoursSource`.
"""

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from joserfc import jws
from joserfc.errors import BadSignatureError, DecodeError, JoseError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.activity import service as activity
from app.audit.service import record
from app.badge import documents, keys
from app.badge.models import BadgeKind, IssuedBadge, PassportLink
from app.badge.status_list import LIST_SIZE, encode
from app.check.schemas import PassportCheck
from app.check.service import passport_checks
from app.errors import InvalidInput, NotFound
from app.organisation.models import Organisation
from app.settings import get_settings
from app.skill.models import Skill
from app.volunteer.models import Credential, Volunteer, VolunteerStatus
from app.volunteer.service import UK, today_uk

STATUS_LIST_TTL = timedelta(hours=1)  # how long a fetched status list may be trusted
LINK_TTL = timedelta(minutes=15)
LINKS_PER_HOUR = 3  # PASSPORT texts a volunteer may have answered with a link in an hour


def _base() -> str:
    return get_settings().public_base_url.rstrip("/")


def issuer() -> documents.Issuer:
    """The service as issuer, identified by its public profile's address."""
    return documents.Issuer(id=f"{_base()}/api/v1/passport/issuer", name=get_settings().badge_issuer_name)


def status_list_url(number: int) -> str:
    """Where status list `number` is published."""
    return f"{_base()}/api/v1/passport/status/{number}"


def _achievement_id(part: str) -> str:
    return f"{_base()}/api/v1/passport/achievements/{part}"


@dataclass(frozen=True)
class HoursRecord:
    """A volunteer's deployments and hours, and a sentence saying how they were counted."""

    deployments: int
    hours: float
    source: str


HoursSource = Callable[[Session, int], HoursRecord]


def hours_given(session: Session, volunteer_id: int) -> HoursRecord:
    """The deployments and hours the passport keeps (app/activity): the one count of what people gave."""
    given = activity.hours_of(session, volunteer_ids=[volunteer_id])[volunteer_id]
    return HoursRecord(
        deployments=len(activity.deployments(session, volunteer_id=volunteer_id)),
        hours=round(given.total, 1),
        source="Deployments (from arrival to sign-off, or the hours a coordinator entered) and the "
        "activities organisations recorded.",
    )


def _end_of(day: date) -> datetime:
    """The end of a UK day: a credential expiring on it still counts that day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK).astimezone(UTC)


def _verified(session: Session, volunteer_id: int) -> list[Credential]:
    return list(
        session.scalars(
            select(Credential)
            .where(
                Credential.volunteer_id == volunteer_id,
                Credential.verified_at.is_not(None),
                (Credential.expires_on.is_(None)) | (Credential.expires_on >= today_uk()),
            )
            .order_by(Credential.skill_code)
        )
    )


def _free_index(session: Session) -> int:
    """A random unused bit, in the first list under half full: an index says nothing of issue order."""
    issued = session.scalar(select(func.count()).select_from(IssuedBadge)) or 0
    number = issued // (LIST_SIZE // 2)
    while True:
        index = number * LIST_SIZE + secrets.randbelow(LIST_SIZE)
        if session.scalar(select(IssuedBadge.id).where(IssuedBadge.status_index == index)) is None:
            return index


def _revoke(badge: IssuedBadge, reason: str) -> None:
    badge.revoked_at = datetime.now(UTC)
    badge.revoked_reason = reason


def _issue(session: Session, **facts: Any) -> IssuedBadge:
    badge = IssuedBadge(public_id=uuid.uuid4(), status_index=_free_index(session), **facts)
    session.add(badge)
    session.flush()
    return badge


def issue_passport(
    session: Session, *, volunteer_id: int, hours: HoursSource = hours_given
) -> list[IssuedBadge]:
    """The volunteer's live credentials, issuing what is new or changed and revoking what lapsed: one
    per verified passport entry, and one for the hours record when there is any."""
    # Locked, so two exports at once cannot both issue the same entry.
    volunteer = session.get(Volunteer, volunteer_id, with_for_update=True, populate_existing=True)
    if volunteer is None or volunteer.status is VolunteerStatus.erased:
        raise NotFound(f"no volunteer {volunteer_id}")
    live = {
        (b.kind, b.credential_id): b
        for b in session.scalars(
            select(IssuedBadge).where(
                IssuedBadge.volunteer_id == volunteer_id, IssuedBadge.revoked_at.is_(None)
            )
        )
    }
    wanted: list[IssuedBadge] = []
    for credential in _verified(session, volunteer_id):
        assert credential.verified_at is not None
        facts = {
            "skill_code": credential.skill_code,
            "level": credential.level,
            "valid_from": credential.verified_at,
            "valid_until": _end_of(credential.expires_on) if credential.expires_on else None,
        }
        held = live.pop((BadgeKind.skill, credential.id), None)
        if held is not None and all(getattr(held, k) == v for k, v in facts.items()):
            wanted.append(held)
            continue
        if held is not None:
            _revoke(held, "superseded: the passport entry changed")
        wanted.append(
            _issue(
                session, volunteer_id=volunteer_id, kind=BadgeKind.skill, credential_id=credential.id, **facts
            )
        )
    record_ = hours(session, volunteer_id)
    held = live.pop((BadgeKind.hours, None), None)
    if held is not None and (held.deployments, held.hours) == (record_.deployments, record_.hours):
        wanted.append(held)
    elif record_.deployments > 0 or record_.hours > 0:
        if held is not None:
            _revoke(held, "superseded: a newer record of hours")
        wanted.append(
            _issue(
                session,
                volunteer_id=volunteer_id,
                kind=BadgeKind.hours,
                deployments=record_.deployments,
                hours=record_.hours,
                valid_from=datetime.now(UTC),
                valid_until=None,
            )
        )
    elif held is not None:
        _revoke(held, "no deployments or activities on record")
    for gone in live.values():
        _revoke(gone, "the passport entry no longer counts (expired or not verified)")
    session.flush()
    return wanted


@dataclass(frozen=True)
class Signed:
    """One issued credential: its row, its document and the compact JWS that carries it."""

    badge: IssuedBadge
    document: dict[str, Any]
    jws: str


def _document(session: Session, badge: IssuedBadge, *, holder: str, source: str) -> dict[str, Any]:
    envelope = documents.Envelope(
        credential_id=f"urn:uuid:{badge.public_id}",
        valid_from=badge.valid_from,
        valid_until=badge.valid_until,
        status_list_url=status_list_url(badge.status_index // LIST_SIZE),
    )
    bit = badge.status_index % LIST_SIZE
    if badge.kind is BadgeKind.hours:
        facts = documents.HoursFacts(
            holder=holder,
            achievement_id=_achievement_id("deployments"),
            deployments=badge.deployments or 0,
            hours=badge.hours or 0.0,
            source=source,
        )
        return documents.hours_credential(issuer(), envelope, facts, bit=bit)
    skill = session.get_one(Skill, badge.skill_code)
    organisation = session.scalar(
        select(Organisation.name)
        .join(Credential, Credential.issued_by_id == Organisation.id)
        .where(Credential.id == badge.credential_id)
    )
    skill_facts = documents.SkillFacts(
        holder=holder,
        achievement_id=_achievement_id(skill.code),
        skill_name=skill.name,
        skill_description=skill.description,
        level=badge.level or 1,
        checked_by=organisation,
    )
    return documents.skill_credential(issuer(), envelope, skill_facts, bit=bit)


def sign_document(session: Session, document: dict[str, Any]) -> str:
    """The document as a VC-JOSE compact JWS (typ vc+jwt) by the current key."""
    payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    header = {"typ": documents.TYP, "cty": documents.CTY}
    return keys.sign(session, payload=payload, header=header)


def export_passport(session: Session, *, volunteer_id: int, hours: HoursSource = hours_given) -> list[Signed]:
    """The volunteer's credentials, issued as needed and each signed now."""
    badges = issue_passport(session, volunteer_id=volunteer_id, hours=hours)
    holder = session.get_one(Volunteer, volunteer_id).name
    source = hours(session, volunteer_id).source
    signed = []
    for badge in badges:
        document = _document(session, badge, holder=holder, source=source)
        signed.append(Signed(badge=badge, document=document, jws=sign_document(session, document)))
    return signed


def revoke(session: Session, *, public_id: uuid.UUID, reason: str, actor: str) -> IssuedBadge:
    """Revoke one issued credential for good: its status bit is set from now on."""
    badge = session.scalar(select(IssuedBadge).where(IssuedBadge.public_id == public_id).with_for_update())
    if badge is None:
        raise NotFound(f"no issued credential {public_id}")
    if badge.revoked_at is None:
        _revoke(badge, reason)
        record(
            session,
            actor=actor,
            action="badge.revoked",
            entity_type="badge",
            entity_id=badge.id,
            detail={"reason": reason},
        )
        session.flush()
    return badge


def revoke_lapsed(session: Session) -> int:
    """Set the status bit of every issued credential past its validUntil (an upkeep pass)."""
    lapsed = session.execute(
        update(IssuedBadge)
        .where(IssuedBadge.revoked_at.is_(None), IssuedBadge.valid_until <= func.now())
        .values(revoked_at=func.now(), revoked_reason="expired")
        .returning(IssuedBadge.id)
    ).all()
    return len(lapsed)


def status_list(session: Session, *, number: int) -> str:
    """Status list `number` as a signed BitstringStatusListCredential (a compact JWS)."""
    if not 0 <= number < 2**31 // LIST_SIZE:
        raise NotFound(f"no status list {number}")
    first = number * LIST_SIZE
    revoked = session.scalars(
        select(IssuedBadge.status_index).where(
            IssuedBadge.revoked_at.is_not(None),
            IssuedBadge.status_index >= first,
            IssuedBadge.status_index <= first + LIST_SIZE - 1,  # the last list ends at the int4 maximum
        )
    )
    now = datetime.now(UTC)
    document = documents.status_list_credential(
        issuer(),
        url=status_list_url(number),
        encoded_list=encode(i - first for i in revoked),
        valid_from=now,
        valid_until=now + STATUS_LIST_TTL,
    )
    return sign_document(session, document)


Outcome = Literal["valid", "invalid_signature", "revoked", "expired", "not_yet_valid", "unknown"]


@dataclass(frozen=True)
class Verification:
    """What a presented credential is, and why."""

    result: Outcome
    reasons: list[str]
    credential_id: str | None = None
    kid: str | None = None
    name: str | None = None


def verify(session: Session, *, token: str) -> Verification:
    """Check a compact JWS: our signature, then our record of it (revoked), then its dates. Anything that
    is not a compact JWS at all is InvalidInput."""
    try:
        header = jws.extract_compact(token.strip().encode()).headers()
    except (DecodeError, JoseError, ValueError, TypeError) as exc:
        raise InvalidInput("that is not a compact JWS (three base64url parts separated by dots)") from exc
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    if header.get("alg") != keys.ALG:
        return Verification("invalid_signature", [f"only {keys.ALG} signatures are accepted"], kid=kid)
    if kid is None or kid not in {k.kid for k in keys.list_keys(session)}:
        return Verification("invalid_signature", ["signed by a key this service never published"], kid=kid)
    try:
        verified = jws.deserialize_compact(token.strip(), keys.public_keys(session), algorithms=[keys.ALG])
    except BadSignatureError:
        return Verification("invalid_signature", ["the signature does not match the content"], kid=kid)
    except (DecodeError, JoseError, ValueError) as exc:
        raise InvalidInput("that is not a compact JWS (three base64url parts separated by dots)") from exc
    try:
        document = json.loads(verified.payload)
        credential_id = str(document["id"])
        public_id = uuid.UUID(credential_id.removeprefix("urn:uuid:"))
    except (ValueError, KeyError, TypeError):
        return Verification("unknown", ["signed by this service but not a passport credential"], kid=kid)
    badge = session.scalar(select(IssuedBadge).where(IssuedBadge.public_id == public_id))
    name = document.get("name") if isinstance(document.get("name"), str) else None
    found = {"credential_id": credential_id, "kid": kid, "name": name}
    if badge is None:
        return Verification("unknown", ["signed by this service but never issued"], **found)
    if badge.revoked_at is not None:
        when = f"{badge.revoked_at.astimezone(UK):%d %B %Y}"
        return Verification("revoked", [f"revoked on {when}: {badge.revoked_reason}"], **found)
    now = datetime.now(UTC)
    if badge.valid_until is not None and badge.valid_until <= now:
        return Verification("expired", [f"valid until {documents.instant(badge.valid_until)}"], **found)
    if badge.valid_from > now:
        return Verification("not_yet_valid", [f"valid from {documents.instant(badge.valid_from)}"], **found)
    return Verification("valid", ["signed by this service; not revoked; within its dates"], **found)


def _token_hash(token: str) -> str:
    # A bare hash is enough: the token has 256 random bits, nothing to guess.
    return hashlib.sha256(token.encode()).hexdigest()


def links_sent_since(session: Session, *, volunteer_id: int, since: timedelta) -> int:
    """How many passport links a volunteer was sent lately."""
    return (
        session.scalar(
            select(func.count())
            .select_from(PassportLink)
            .where(PassportLink.volunteer_id == volunteer_id, PassportLink.created_at > func.now() - since)
        )
        or 0
    )


def create_link(session: Session, *, volunteer_id: int) -> str:
    """A new passport link's token (the caller texts it); only its hash is kept."""
    token = secrets.token_urlsafe(32)
    session.add(
        PassportLink(
            volunteer_id=volunteer_id,
            token_hash=_token_hash(token),
            expires_at=datetime.now(UTC) + LINK_TTL,
        )
    )
    session.flush()
    return token


def link_url(token: str) -> str:
    """Where a passport link points."""
    return f"{_base()}/passport/{token}"


def open_link(session: Session, *, token: str, use: bool) -> int:
    """The volunteer a live link belongs to; `use` spends it (the one showing). NotFound when the link is
    unknown, used or expired: the page says the same for each."""
    link = session.scalar(
        select(PassportLink).where(PassportLink.token_hash == _token_hash(token)).with_for_update()
    )
    if link is None or link.used_at is not None or link.expires_at <= datetime.now(UTC):
        raise NotFound("this passport link has expired or was already used; text PASSPORT for a new one")
    if use:
        link.used_at = datetime.now(UTC)
        session.flush()
    return link.volunteer_id


@dataclass(frozen=True)
class PassportEntry:
    """One verified credential as the volunteer's page shows it: never a certificate number."""

    name: str
    level: int
    checked_on: date
    expires_on: date | None
    jws: str


@dataclass(frozen=True)
class Passport:
    """What the volunteer's page shows."""

    holder: str
    entries: list[PassportEntry]
    hours: HoursRecord
    hours_jws: str | None
    milestones: list[str]
    checks: list[PassportCheck]


def passport(session: Session, *, volunteer_id: int, hours: HoursSource = hours_given) -> Passport:
    """The volunteer's passport for their own page, each credential signed for download."""
    signed = export_passport(session, volunteer_id=volunteer_id, hours=hours)
    record_ = hours(session, volunteer_id)
    names = {code: name for code, name in session.execute(select(Skill.code, Skill.name))}
    entries = [
        PassportEntry(
            name=names.get(s.badge.skill_code or "", s.badge.skill_code or ""),
            level=s.badge.level or 1,
            checked_on=s.badge.valid_from.astimezone(UK).date(),
            expires_on=(s.badge.valid_until - timedelta(days=1)).astimezone(UK).date()
            if s.badge.valid_until
            else None,
            jws=s.jws,
        )
        for s in signed
        if s.badge.kind is BadgeKind.skill
    ]
    hours_jws = next((s.jws for s in signed if s.badge.kind is BadgeKind.hours), None)
    return Passport(
        holder=session.get_one(Volunteer, volunteer_id).name,
        entries=entries,
        hours=record_,
        hours_jws=hours_jws,
        milestones=[f"{m.hours} hours" for m in activity.milestones_of(session, volunteer_id=volunteer_id)],
        checks=passport_checks(session, volunteer_id=volunteer_id),
    )
