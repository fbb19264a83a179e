"""What an organisation's verifier sees of a credential, and what it sends to verify or reject one."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.fields import PlainText, Reason
from app.volunteer.models import CredentialStatus
from app.volunteer.schemas import Validity
from app.volunteer.service import today_uk

# Why a credential is this verifier's to decide: the holder is a member, or it names the organisation
# as its issuer (both when both).
Ground = Literal["member", "issuer"]


class VerificationItem(BaseModel):
    """A credential as its verifier sees it: who claims what, never their phone or home."""

    credential_id: int
    volunteer_id: int
    volunteer_name: str
    skill: str
    skill_name: str
    level: int
    expires_on: date | None
    validity: Validity
    issued_by: str | None
    status: CredentialStatus
    status_at: datetime = Field(description="when it was claimed (pending) or last decided")
    grounds: list[Ground] = Field(
        description="member: the holder belongs to the organisation; issuer: it names it"
    )


class VerificationPage(BaseModel):
    """One page of the verifier's queue, oldest claim first."""

    organisation: str
    items: list[VerificationItem]
    total: int
    limit: int
    offset: int


class VerificationCreate(BaseModel):
    """The evidence a verifier saw: the certificate's number, the course and the date it was passed."""

    model_config = ConfigDict(extra="forbid")

    certificate_number: PlainText = Field(min_length=1, max_length=80)
    course: PlainText = Field(min_length=1, max_length=200)
    certified_on: date = Field(description="when the course was passed or the certificate issued")

    @field_validator("certificate_number", "course")
    @classmethod
    def not_blank(cls, value: str) -> str:
        """Evidence of only spaces is no evidence."""
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("certified_on")
    @classmethod
    def in_the_past(cls, value: date) -> date:
        """A certificate is passed on a real day, not ahead of today."""
        if not date(1900, 1, 1) <= value <= today_uk():
            raise ValueError("must be a day between 1900 and today")
        return value


class RejectionCreate(BaseModel):
    """Why the verifier could not verify a credential; the volunteer is told this by SMS."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class ExportReview(BaseModel):
    """One organisation's decision on one of the person's credentials, with the evidence it saw or the
    reason it gave (part of a subject-access export)."""

    credential_id: int
    skill: str
    decision: CredentialStatus
    organisation: str
    actor: str
    decided_at: datetime
    evidence: dict[str, str]
    reason: str | None
