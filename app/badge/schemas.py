"""What the passport's routes take and answer."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.fields import PlainText

MAX_JWS_CHARS = 64 * 1024


class VerifyRequest(BaseModel):
    """A credential to check, as the compact JWS it was issued as."""

    model_config = ConfigDict(extra="forbid")

    credential: PlainText = Field(min_length=1, max_length=MAX_JWS_CHARS)


class VerificationRead(BaseModel):
    """The answer: valid, or why not."""

    result: Literal["valid", "invalid_signature", "revoked", "expired", "not_yet_valid", "unknown"]
    reasons: list[str]
    credential_id: str | None = None
    kid: str | None = None
    name: str | None = None


class RevokeRequest(BaseModel):
    """Why a credential is revoked (kept with it and shown to whoever checks it)."""

    model_config = ConfigDict(extra="forbid")

    reason: PlainText = Field(min_length=1, max_length=200)


class IssuedRead(BaseModel):
    """One issued credential, with its signed form for the holder to carry."""

    id: uuid.UUID
    kind: Literal["skill", "hours"]
    name: str
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    jws: str | None = None


class Jwk(BaseModel):
    """A public Ed25519 key (RFC 8037)."""

    kty: str
    crv: str
    x: str
    kid: str
    use: str | None = None
    alg: str | None = None


class JwkSet(BaseModel):
    """The service's published keys, current and retired (RFC 7517)."""

    keys: list[Jwk]


class IssuerProfile(BaseModel):
    """The issuer's Open Badges 3.0 Profile."""

    model_config = ConfigDict(populate_by_name=True)

    context: list[str] = Field(alias="@context")
    id: str
    type: list[str]
    name: str

    def dump(self) -> dict[str, Any]:
        """As JSON-LD, with `@context`."""
        return self.model_dump(by_alias=True)
