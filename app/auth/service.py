"""Creating, listing, revoking and checking bearer tokens."""

import hashlib
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import cast

import structlog
from sqlalchemy import Select, String, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.area.service import get_area
from app.audit.models import AuditEvent
from app.audit.service import record
from app.auth.models import ApiToken, Role
from app.auth.throttle import WindowCounter, failure_counter
from app.db import get_engine, unit_of_work
from app.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthorized
from app.organisation.models import Organisation

log = structlog.get_logger(__name__)

TOKEN_PREFIX = "nvr_"  # noqa: S105 (a prefix, not a secret)
ACTOR_PREFIX = "token:"
MAX_TOKEN_ID_DIGITS = 10  # api_tokens.id is a 32-bit integer
# A name must fit the audit trail's actor column beside its prefix and id, or every write it makes
# would fail at commit.
ACTOR_LENGTH = cast(String, AuditEvent.__table__.c.actor.type).length or 0
MAX_NAME_LENGTH = ACTOR_LENGTH - len(ACTOR_PREFIX) - MAX_TOKEN_ID_DIGITS - 1
AREA_ROLES = frozenset({Role.lrf_viewer})  # the roles that see one area only
ORGANISATION_ROLES = frozenset({Role.org_verifier})  # the roles that act for one organisation only
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy token: enough for lookups, and the secret never rests in the database."""
    return hashlib.sha256(token.encode()).hexdigest()


def clean_name(name: str) -> str:
    """A token's name without surrounding spaces; refused when empty, too long or with control characters."""
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput("a token needs a name (who or what holds it)")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(f"a token's name may be at most {MAX_NAME_LENGTH} characters, not {len(cleaned)}")
    if any(unicodedata.category(c).startswith("C") for c in cleaned):
        raise InvalidInput("a token's name may not contain control or invisible characters")
    return cleaned


def create_token(
    session: Session,
    *,
    name: str,
    role: Role,
    area_code: str | None = None,
    organisation: str | None = None,
    expires_in_days: int | None = None,
) -> str:
    """Store a new token's hash and return the token itself, which is shown once.

    An org_verifier token is bound to one existing organisation, named exactly: a verifier for an
    organisation nobody has heard of would vouch for nothing."""
    name = clean_name(name)
    organisation_id = _organisation_for(session, role=role, organisation=organisation)
    if role in AREA_ROLES and not area_code:
        raise InvalidInput(f"an {role.value} token must be bound to one area (--area CODE)")
    if role not in AREA_ROLES and area_code:
        raise InvalidInput(f"an {role.value} token sees every area; --area is only for lrf_viewer tokens")
    if area_code:
        try:
            get_area(session, code=area_code)
        except NotFound as exc:
            raise InvalidInput(f"area {area_code} does not exist (see `nvr areas import`)") from exc
    if expires_in_days is not None and expires_in_days < 1:
        raise InvalidInput("a token must be valid for at least one day")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = func.now() + timedelta(days=expires_in_days) if expires_in_days is not None else None
    row = ApiToken(
        name=name,
        role=role,
        token_hash=hash_token(token),
        area_code=area_code,
        organisation_id=organisation_id,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return token


def _organisation_for(session: Session, *, role: Role, organisation: str | None) -> int | None:
    """The id of the organisation an org_verifier token acts for; refused for other roles or when unknown."""
    wanted = (organisation or "").strip()
    if role not in ORGANISATION_ROLES:
        if wanted:
            raise InvalidInput(
                f"an {role.value} token acts for nobody; --organisation is only for org_verifier"
            )
        return None
    if not wanted:
        raise InvalidInput(f"an {role.value} token must be bound to one organisation (--organisation NAME)")
    found = session.scalar(select(Organisation.id).where(Organisation.name == wanted))
    if found is None:
        raise InvalidInput(
            f"organisation {wanted!r} does not exist (names are exact, as volunteers hold them)"
        )
    return found


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, revoked and expired ones included, oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(
    session: Session, *, token_id: int | None = None, name: str | None = None, actor: str
) -> ApiToken:
    """Revoke one token, chosen by id or by the name of a live token; revoking twice changes nothing."""
    if (token_id is None) == (name is None):
        raise InvalidInput("give a token's id or its name, not both")
    if token_id is not None:
        found = session.get(ApiToken, token_id)
        if found is None:
            raise NotFound(f"token {token_id} does not exist")
    else:
        live = list(
            session.scalars(select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None)))
        )
        if not live:
            raise NotFound(f"no live token is named {name!r}")
        if len(live) > 1:
            ids = ", ".join(str(t.id) for t in live)
            raise Conflict(f"{len(live)} live tokens are named {name!r} (ids {ids}): revoke one by id")
        found = live[0]
    if found.revoked_at is None:
        found.revoked_at = session.scalar(select(func.now()))
        record(session, actor=actor, action="token.revoked", entity_type="api_token", entity_id=found.id)
        session.flush()
    return found


def _live_with_now(token: str) -> Select[ApiToken, datetime]:
    """The live (not revoked, not expired) token with this secret, and the database's clock."""
    return select(ApiToken, func.now()).where(
        ApiToken.token_hash == hash_token(token),
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > func.now()),
    )


def find_token(session: Session, *, token: str) -> ApiToken | None:
    """The live token record for a presented bearer token: not revoked, not expired; or None."""
    row = session.execute(_live_with_now(token)).first()
    return row[0] if row else None


def authenticate(
    session: Session, *, token: str | None, client: str, counter: WindowCounter | None = None
) -> ApiToken:
    """The live token `client` presented; 401 when there is none, 429 once the client has failed too often.

    A live token is let through even from a throttled client: many people may share one address (an
    office, a proxy), and a stranger's bad guesses must not lock a coordinator out in an emergency. A
    token is 256 random bits, so the throttle bounds noise and records attempts; it is not what stops
    guessing.
    """
    counter = counter or failure_counter()
    row = session.execute(_live_with_now(token)).first() if token is not None else None
    if row is not None:
        found, now = row
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
            _note_use(found.id)
        return found
    wait_s = counter.blocked_for(client)
    if wait_s is not None:
        raise TooManyRequests(
            "too many failed authentications from this client; try later", retry_after_s=wait_s
        )
    if token is None:
        raise Unauthorized("a bearer token is required (Authorization: Bearer nvr_...)")
    failures = counter.add(client)
    if failures == counter.limit:
        _record_throttled(client=client, failures=failures, window_s=counter.window_s)
    raise Unauthorized("the bearer token is unknown, expired or revoked")


def _record_throttled(*, client: str, failures: int, window_s: int) -> None:
    """Keep the moment a client was throttled in the audit trail, in a transaction of its own.

    The request itself fails and rolls back; the presented token is never recorded.
    """
    log.warning("auth.throttled", client=client, failures=failures, window_s=window_s)
    try:
        with unit_of_work() as session:
            detail = {"client": client, "failures": failures, "window_s": window_s}
            record(
                session,
                actor=f"client:{client}"[:ACTOR_LENGTH],
                action="auth.throttled",
                entity_type="client",
                entity_id=None,
                detail=detail,
            )
    except SQLAlchemyError as exc:
        log.error("auth.throttled_not_recorded", client=client, error=type(exc).__name__)


def _note_use(token_id: int) -> None:
    """Record when a token was last used (to the minute), outside the request's transaction.

    A write in the request's transaction would hold the token's row locked until the request ends and
    make concurrent requests with the same token wait for each other.
    """
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < func.now() - LAST_USED_RESOLUTION)
    with get_engine().begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=func.now()))


def actor_of(token: ApiToken) -> str:
    """How a token appears in the audit trail."""
    return f"{ACTOR_PREFIX}{token.id}:{token.name}"
