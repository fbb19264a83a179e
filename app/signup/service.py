"""Joining the reserve: a sign-up is kept with a one-time code sent to the phone, and becomes a volunteer
only when the code comes back.

Accepting a sign-up is cheap on purpose (a few indexed reads, three inserts, one commit; the SMS is
queued): a national appeal brings thousands a second. A number already on the reserve gets the same
answer on the page as a new one, so the page never says whose number it is; its code asks the holder
to confirm an update instead. A number erased earlier joins again with the fresh consent given here.
Service functions: session first, keyword-only after; they flush, callers commit.
"""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from alerts.text import details_updated_text, welcome_text
from app.audit.service import record
from app.auth.throttle import WindowCounter, signup_counter
from app.db import insert_rows
from app.errors import Conflict, DomainError, InvalidInput, NotFound, TooManyRequests
from app.message.models import Message, MessageKind, MessageStatus
from app.message.service import respond
from app.organisation.models import Organisation
from app.settings import get_settings
from app.signup import codes, consent
from app.signup.models import CodePurpose, PhoneCode, Signup, SignupState
from app.signup.schemas import SignupCreate, SignupStarted, Usually
from app.volunteer import service as reserve
from app.volunteer.models import (
    AvailabilityWindow,
    Consent,
    ConsentScope,
    Credential,
    Volunteer,
    VolunteerSource,
    VolunteerStatus,
)
from app.volunteer.schemas import GeoPoint
from geo.places import find_town

CODES_PER_NUMBER = 3  # codes one number may be sent per CODES_WINDOW, whoever asks
CODES_WINDOW = timedelta(hours=1)
RESEND_AFTER = timedelta(seconds=60)  # a new code no sooner than this after the last one was sent
PENDING_KEPT = timedelta(days=1)  # an unverified sign-up (its personal data) is deleted after this
TRAVEL_KM_DEFAULT = 20.0
# What a sign-up is written with (`insert_rows`: a surge's batch is one fixed-shape INSERT).
SIGNUP_COLUMNS = (
    "token",
    "state",
    "phone",
    "volunteer_id",
    "details",
    "location",
    "max_travel_km",
    "consent_version",
    "marketing",
    "client",
)

# The weekly windows (UK time, weekday 0 is Monday) each tick box stands for.
USUAL_WINDOWS: dict[str, list[tuple[int, time, time]]] = {
    "weekday_daytime": [(d, time(8), time(18)) for d in range(5)],
    "weekday_evening": [(d, time(18), time(23)) for d in range(5)],
    "weekend": [(d, time(8), time(23)) for d in (5, 6)],
}


def client_fingerprint(address: str) -> str:
    """A keyed fingerprint of a client address: enough to count sign-ups per address, never the address."""
    key = f"signup-client:{get_settings().erasure_key}".encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def _place(data: SignupCreate) -> GeoPoint:
    """Where they respond from: their pin, or the centre of the town they named."""
    if data.location is not None:
        return data.location
    try:
        town = find_town(data.town or "")
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0]), field="town") from exc
    return GeoPoint(type="Point", coordinates=[town.lon, town.lat])


Outcome = SignupStarted | DomainError
TOO_MANY_CODES = "this number has been sent too many codes in the last hour; try again later"


def _check_codes_allowed(session: Session, *, phone: str) -> None:
    """Refuse a code to a number that has had CODES_PER_NUMBER lately: a form must not become a way to
    text someone else's phone again and again. Counted in the database, which a Redis wipe cannot reset."""
    if codes.sent_since(session, phone=phone, since=CODES_WINDOW) >= CODES_PER_NUMBER:
        raise TooManyRequests(TOO_MANY_CODES, retry_after_s=int(CODES_WINDOW.total_seconds()))


def start(
    session: Session, *, data: SignupCreate, client: str, counter: WindowCounter | None = None
) -> SignupStarted:
    """One sign-up (`start_many` of one); its refusal is raised."""
    [outcome] = start_many(session, items=[(data, client)], counter=counter)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def start_many(
    session: Session, *, items: Sequence[tuple[SignupCreate, str]], counter: WindowCounter | None = None
) -> list[Outcome]:
    """Keep sign-ups and send their codes, each answered in order: started, or the error that refuses it.

    The same answer whether a number is new, already held (its holder is asked to confirm an update) or
    erased earlier (the consent given here is fresh). However many come at once, the checks are a few
    queries and the writes one INSERT per table, so a surge costs little more per sign-up than its parse.
    """
    counter = counter or signup_counter()
    prints = [client_fingerprint(client) for _, client in items]
    seen = counter.add_many(prints)  # counted first: a refused attempt from a busy address counts too
    catalogue = reserve.known_skills(session)
    organisations = _known_organisations(session, [n for data, _ in items for n in data.organisations])
    phones = [data.phone for data, _ in items]
    sent = codes.sent_counts(session, phones=phones, since=CODES_WINDOW)
    owners = reserve.phone_owners(session, phones=phones)
    outcomes: list[Outcome | Signup] = []
    for (data, _), fingerprint, count in zip(items, prints, seen, strict=True):
        try:
            place = _check(data, count=count, limit=counter, catalogue=catalogue, organisations=organisations)
            if sent.get(data.phone, 0) >= CODES_PER_NUMBER:
                raise TooManyRequests(TOO_MANY_CODES, retry_after_s=int(CODES_WINDOW.total_seconds()))
        except DomainError as refused:
            outcomes.append(refused)
            continue
        sent[data.phone] = sent.get(data.phone, 0) + 1
        outcomes.append(_signup(data, place=place, owner=owners.get(data.phone), client=fingerprint))
    kept = [o for o in outcomes if isinstance(o, Signup)]
    rows = [{column: getattr(s, column) for column in SIGNUP_COLUMNS} for s in kept]
    for signup, signup_id in zip(kept, insert_rows(session, Signup, rows), strict=True):
        signup.id = signup_id
    requests = [
        codes.CodeRequest(
            phone=s.phone or "", purpose=_purpose(s), volunteer_id=s.volunteer_id, signup_id=s.id
        )
        for s in kept
    ]
    sent_codes = iter(codes.send_many(session, requests))
    return [_started(o, next(sent_codes)) if isinstance(o, Signup) else o for o in outcomes]


def _check(
    data: SignupCreate, *, count: int, limit: WindowCounter, catalogue: set[str], organisations: set[str]
) -> GeoPoint:
    """Refuse a sign-up for anything but its number's code count (which the batch keeps); its place."""
    if count > limit.limit:
        raise TooManyRequests(
            "too many sign-ups from this address just now; try again in a few minutes",
            retry_after_s=limit.window_s,
        )
    if data.consent_version != consent.CURRENT:
        raise Conflict(
            "the consent wording has changed since this page was opened: read it again and tick it",
            field="consent_version",
        )
    place = _place(data)
    unknown = sorted(set(data.skills) - catalogue)
    if unknown:
        raise InvalidInput(
            f"unknown skill code(s): {', '.join(unknown)}; known codes: {', '.join(sorted(catalogue))}",
            field="skills",
        )
    strangers = sorted({n.strip() for n in data.organisations if n.strip()} - organisations)
    if strangers:
        raise InvalidInput(f"unknown organisation(s): {', '.join(strangers)}", field="organisations")
    return place


def _known_organisations(session: Session, names: list[str]) -> set[str]:
    """Which of these organisations exist: a public form does not create organisations."""
    wanted = sorted({n.strip() for n in names if n.strip()})
    if not wanted:
        return set()
    return set(session.scalars(select(Organisation.name).where(Organisation.name.in_(wanted))))


def _signup(data: SignupCreate, *, place: GeoPoint, owner: int | None, client: str) -> Signup:
    details = data.model_dump(
        mode="json", include={"name", "skills", "languages", "availability", "marketing"}
    )
    details["organisations"] = sorted({n.strip() for n in data.organisations if n.strip()})
    details["consent_at"] = datetime.now(UTC).isoformat()
    return Signup(
        token=secrets.token_urlsafe(32),
        state=SignupState.pending,
        phone=data.phone,
        volunteer_id=owner,
        details=details,
        location=reserve.point_element(place),
        max_travel_km=data.max_travel_km,
        consent_version=data.consent_version,
        marketing=data.marketing,
        client=client,
    )


def _started(signup: Signup, code: PhoneCode) -> SignupStarted:
    return SignupStarted(
        signup=signup.token,
        phone_ending=(signup.phone or "")[-3:],
        code_expires_at=code.expires_at,
        resend_after_s=int(RESEND_AFTER.total_seconds()),
    )


def _pending(session: Session, token: str) -> Signup:
    """The pending sign-up with this reference, locked; any other is a clear 404 or 409."""
    signup = session.scalar(select(Signup).where(Signup.token == token).with_for_update())
    if signup is None or signup.state is not SignupState.pending or signup.phone is None:
        raise NotFound(
            "no sign-up waiting for a code with this reference: it was verified already or has expired "
            "(after a day); start again if you are not on the reserve"
        )
    return signup


def _purpose(signup: Signup) -> CodePurpose:
    return CodePurpose.update if signup.volunteer_id is not None else CodePurpose.signup


def resend(session: Session, *, token: str) -> SignupStarted:
    """A new code for a pending sign-up, once the last one has had time to arrive; the old one stops
    working. While the last code is still waiting in the queue, no second one is added behind it."""
    signup = _pending(session, token)
    last = codes.latest(session, purpose=_purpose(signup), signup_id=signup.id)
    if last is not None:
        if _code_waiting(session, last):
            raise TooManyRequests(
                "your code is still on its way: many people are joining; it lasts 10 minutes from when "
                "it arrives",
                retry_after_s=int(RESEND_AFTER.total_seconds()),
            )
        since = datetime.now(UTC) - last.created_at
        if since < RESEND_AFTER:
            wait = int((RESEND_AFTER - since).total_seconds()) + 1
            raise TooManyRequests(f"wait {wait} seconds before asking for a new code", retry_after_s=wait)
        last.used_at = datetime.now(UTC)  # only the newest code counts
    phone = signup.phone or ""
    _check_codes_allowed(session, phone=phone)
    request = codes.CodeRequest(
        phone=phone, purpose=_purpose(signup), volunteer_id=signup.volunteer_id, signup_id=signup.id
    )
    code = codes.send(session, request)
    return _started(signup, code)


def _code_waiting(session: Session, code: PhoneCode) -> bool:
    """Whether the SMS carrying this code has not reached the provider yet."""
    if code.message_id is None:
        return False
    status = session.scalar(select(Message.status).where(Message.id == code.message_id))
    return status in (MessageStatus.pending, MessageStatus.sending)


def verify(session: Session, *, token: str, code: str) -> tuple[codes.CodeCheck, int]:
    """Check a code; when it is right the person is on the reserve (or their details are updated) and
    the sign-up, with its personal data, is gone. A wrong guess is counted: the caller commits it even
    though it answers with an error (`refusal`)."""
    signup = _pending(session, token)
    row = codes.latest(session, purpose=_purpose(signup), signup_id=signup.id)
    if row is None:
        raise Conflict("no code was sent for this sign-up; ask for a new one")
    outcome = codes.check(row, code)
    if outcome is not codes.CodeCheck.ok:
        return outcome, codes.tries_left(row)
    owner = reserve.phone_owner(session, phone=signup.phone or "")
    if owner is not None:
        _update_volunteer(session, signup=signup, volunteer_id=owner)
    else:
        _new_volunteer(session, signup=signup)
    session.delete(signup)
    session.flush()
    return outcome, codes.tries_left(row)


def refusal(outcome: codes.CodeCheck, tries_left: int) -> InvalidInput | Conflict:
    """The error a wrong, expired, spent or exhausted code answers with, in words for the person."""
    if outcome is codes.CodeCheck.wrong:
        plural = "try" if tries_left == 1 else "tries"
        return InvalidInput(
            f"that code is not right: {tries_left} {plural} left", field="code", tries_left=tries_left
        )
    reasons = {
        codes.CodeCheck.expired: "that code has expired (codes last 10 minutes): ask for a new one",
        codes.CodeCheck.used: "that code was replaced by a newer one: use the newest code we sent",
        codes.CodeCheck.too_many: "too many wrong tries for that code: ask for a new one",
    }
    return Conflict(reasons[outcome], field="code", reason=outcome.value)


def _windows(usual: list[Usually]) -> list[AvailabilityWindow]:
    return [
        AvailabilityWindow(weekday=day, starts=starts, ends=ends)
        for choice in usual
        for day, starts, ends in USUAL_WINDOWS[choice]
    ]


def _consents(session: Session, *, volunteer_id: int, signup: Signup) -> None:
    """Record each consent as shown: the service one always, news only when ticked."""
    scopes = [ConsentScope.service, *([ConsentScope.marketing] if signup.marketing else [])]
    session.add_all(
        Consent(
            volunteer_id=volunteer_id,
            scope=scope,
            version=signup.consent_version,
            wording=consent.wording(scope, signup.consent_version),
            source="web",
            given_at=_details(signup)["consent_at"],
        )
        for scope in scopes
    )


def _details(signup: Signup) -> dict[str, Any]:
    details = dict(signup.details or {})
    details["consent_at"] = datetime.fromisoformat(str(details["consent_at"]))
    return details


def _new_volunteer(session: Session, *, signup: Signup) -> Volunteer:
    """A new volunteer from a verified sign-up: claimed skills (unverified), a welcome SMS."""
    details = _details(signup)
    phone = signup.phone or ""
    if reserve.erased_phones(session, phones=[phone]):
        reserve.forget_erasures(session, phones=[phone])  # the consent given at /join is fresh
    now = datetime.now(UTC)
    volunteer = Volunteer(
        name=details["name"],
        phone=phone,
        location=signup.location,
        max_travel_km=signup.max_travel_km,
        status=VolunteerStatus.active,
        consent_at=details["consent_at"],
        languages=details["languages"],
        credentials=[Credential(skill_code=c, level=1) for c in details["skills"]],
        windows=_windows(details["availability"]),
        unavailable=[],
        organisations=reserve.organisations_named(session, names=details["organisations"]),
        source=VolunteerSource.signup,
        phone_verified_at=now,
        available_confirmed_at=now,
    )
    session.add(volunteer)
    session.flush()
    _consents(session, volunteer_id=volunteer.id, signup=signup)
    record(
        session, actor="signup", action="volunteer.joined", entity_type="volunteer", entity_id=volunteer.id
    )
    respond(session, volunteer, MessageKind.welcome, welcome_text())
    return volunteer


def _update_volunteer(session: Session, *, signup: Signup, volunteer_id: int) -> Volunteer:
    """A duplicate sign-up confirmed by the number's holder: their details are the new ones; skills they
    hold stay as they are (a verified one is never replaced by a claim), new ones are added as claims."""
    details = _details(signup)
    volunteer = reserve.get_volunteer(session, volunteer_id=volunteer_id, for_update=True)
    volunteer.name = details["name"]
    volunteer.location = signup.location
    volunteer.max_travel_km = signup.max_travel_km
    volunteer.languages = details["languages"]
    volunteer.windows = _windows(details["availability"])
    volunteer.organisations = reserve.organisations_named(session, names=details["organisations"])
    held = {c.skill_code for c in volunteer.credentials}
    volunteer.credentials.extend(
        Credential(skill_code=c, level=1) for c in details["skills"] if c not in held
    )
    volunteer.phone_verified_at = datetime.now(UTC)
    volunteer.consent_at = details["consent_at"]
    if volunteer.status in (VolunteerStatus.opted_out, VolunteerStatus.inactive):
        reserve.set_status(volunteer, VolunteerStatus.active)  # they came back themselves, with consent
    session.flush()
    _consents(session, volunteer_id=volunteer.id, signup=signup)
    record(
        session,
        actor="signup",
        action="volunteer.updated_by_signup",
        entity_type="volunteer",
        entity_id=volunteer.id,
    )
    respond(session, volunteer, MessageKind.self_service, details_updated_text())
    return volunteer


def delete_stale(session: Session) -> int:
    """Delete sign-ups never verified within a day, with their personal data and codes."""
    gone = session.scalars(
        delete(Signup)
        .where(Signup.state == SignupState.pending, Signup.created_at < datetime.now(UTC) - PENDING_KEPT)
        .returning(Signup.id)
    ).all()
    return len(gone)
