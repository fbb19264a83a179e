"""The service's signing keys: Ed25519 through joserfc, kept encrypted, published as a JWKS.

The private half is stored as an encrypted PKCS#8 PEM (the password is `BADGE_KEY_SECRET`), decrypted
only to sign and never returned by any route. Rotation makes a new current key and retires the old one,
which stays in the JWKS so every credential it signed still verifies.
"""

import secrets
import warnings
from datetime import UTC, datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.badge.models import SigningKey
from app.errors import Unavailable
from app.settings import get_settings

ALG = "EdDSA"  # RFC 8037, what every VC-JOSE verifier reads today (RFC 9864's "Ed25519" is newer)
# joserfc warns on each use that RFC 9864 deprecates the name "EdDSA" in favour of "Ed25519"; we keep
# the name verifiers in the field accept (the key is Ed25519 either way).
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
ROTATE_LOCK = 0x6E7672_20  # pg advisory lock: one rotation at a time


def _secret() -> str:
    return get_settings().badge_key_secret


def _new_kid() -> str:
    return f"nvr-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def rotate(session: Session) -> SigningKey:
    """Make a new current key and retire the current one (kept and published)."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROTATE_LOCK})
    for old in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        old.retired_at = datetime.now(UTC)
    session.flush()
    kid = _new_kid()
    key = OKPKey.generate_key("Ed25519", parameters={"kid": kid, "use": "sig", "alg": ALG})
    row = SigningKey(
        kid=kid,
        public_jwk=dict(key.as_dict(private=False)),
        private_pem=key.as_pem(private=True, password=_secret()).decode("ascii"),
    )
    session.add(row)
    session.flush()
    return row


def current(session: Session) -> SigningKey:
    """The key that signs now; the first is made on first use."""
    row = session.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None)))
    return row if row is not None else rotate(session)


def list_keys(session: Session) -> list[SigningKey]:
    """Every key, newest first."""
    return list(session.scalars(select(SigningKey).order_by(SigningKey.id.desc())))


def jwks(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The public keys, current and retired, as a JWK Set (RFC 7517): no private member, ever."""
    public = ("kty", "crv", "x", "kid", "use", "alg")
    return {"keys": [{k: v for k, v in row.public_jwk.items() if k in public} for row in list_keys(session)]}


def public_keys(session: Session) -> KeySet:
    """The published keys, for checking a signature."""
    return KeySet([OKPKey.import_key(dict(row.public_jwk)) for row in list_keys(session)])


def sign(session: Session, *, payload: bytes, header: dict[str, Any]) -> str:
    """A compact JWS of `payload` by the current key, its `kid` in the protected header."""
    row = current(session)
    try:
        key = OKPKey.import_key(row.private_pem, {"kid": row.kid}, password=_secret())
    except (ValueError, TypeError, JoseError) as exc:
        raise Unavailable(
            "the signing key cannot be read with BADGE_KEY_SECRET; run `nvr keys rotate` for a new one"
        ) from exc
    protected = {**header, "alg": ALG, "kid": row.kid}
    return jws.serialize_compact(protected, payload, key, algorithms=[ALG])
