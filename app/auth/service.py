"""Creating and checking bearer tokens."""

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, Role
from app.errors import InvalidInput

TOKEN_PREFIX = "nvr_"  # noqa: S105 (a prefix, not a secret)


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy token: enough for lookups, and the secret never rests in the database."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str, role: Role, area_code: str | None = None) -> str:
    """Store a new token's hash and return the token itself, which is shown once."""
    if role is Role.lrf_viewer and not area_code:
        raise InvalidInput("an lrf_viewer token must be bound to one area (--area CODE)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, token_hash=hash_token(token), area_code=area_code))
    session.flush()
    return token


def find_token(session: Session, *, token: str) -> ApiToken | None:
    """The live token record for a presented bearer token, or None."""
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if found is None or found.revoked_at is not None:
        return None
    return found


def actor_of(token: ApiToken) -> str:
    """How a token appears in the audit trail."""
    return f"token:{token.id}:{token.name}"
