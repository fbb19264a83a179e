"""Request and response shapes for volunteers."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from app.fields import Instant, LocalTime, PlainText
from app.volunteer.models import EXPIRING_DAYS, CredentialStatus, VolunteerStatus
from app.volunteer.phone import normalise_mobile
from geo.geojson import parse_point

Language = Annotated[PlainText, StringConstraints(strip_whitespace=True, min_length=2, max_length=8)]
OrganisationName = Annotated[
    PlainText, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]


class GeoPoint(BaseModel):
    """A GeoJSON Point (RFC 7946: longitude, latitude)."""

    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=3)

    @model_validator(mode="after")
    def check_range(self) -> "GeoPoint":
        """Reject coordinates outside the WGS84 ranges with a clear message."""
        parse_point(self.model_dump())
        return self

    @property
    def lon(self) -> float:
        """Longitude."""
        return self.coordinates[0]

    @property
    def lat(self) -> float:
        """Latitude."""
        return self.coordinates[1]


class CredentialCreate(BaseModel):
    """One passport entry as submitted: a claim, pending until the issuing organisation or the
    person's own verifies it (app/passport); nobody else can mark it verified."""

    model_config = ConfigDict(extra="forbid")

    code: PlainText = Field(min_length=1, max_length=40)
    level: int = Field(default=1, ge=1, le=5)
    expires_on: date | None = None
    issued_by: PlainText | None = Field(
        default=None, max_length=200, description="the organisation that issued it: its verifier is asked"
    )


Validity = Literal["in_date", "expiring", "expired"]


class CredentialRead(BaseModel):
    """One passport entry as shown, with whether it counts today."""

    code: str
    level: int
    expires_on: date | None
    issued_by: str | None
    status: CredentialStatus = Field(description="pending, verified or rejected by an organisation")
    verified_by: str | None
    verified_at: datetime | None
    validity: Validity = Field(description=f"in_date, expiring (within {EXPIRING_DAYS} days) or expired")
    valid: bool


class WindowCreate(BaseModel):
    """A weekly availability window in UK local time; weekday 0 is Monday."""

    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(ge=0, le=6)
    starts: LocalTime
    ends: LocalTime

    @model_validator(mode="after")
    def check_order(self) -> "WindowCreate":
        """A window must end after it starts."""
        if self.ends <= self.starts:
            raise ValueError("ends must be after starts")
        return self


class UnavailableCreate(BaseModel):
    """A one-off period when the volunteer must not be called."""

    model_config = ConfigDict(extra="forbid")

    starts_at: Instant
    ends_at: Instant
    reason: PlainText = Field(default="", max_length=500)

    @model_validator(mode="after")
    def check_order(self) -> "UnavailableCreate":
        """A period must end after it starts."""
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class WindowRead(WindowCreate):
    """A weekly availability window as held."""


class UnavailableRead(UnavailableCreate):
    """A one-off unavailable period as held."""


def _phone(value: str) -> str:
    return normalise_mobile(value)


def non_blank_name(value: str | None) -> str | None:
    """A name is stored stripped, so one of only spaces would be stored empty: refuse it."""
    if value is None:
        return None
    if not value.strip():
        raise ValueError("name must not be blank")
    return value.strip()


def _one_entry_per_skill(value: list[CredentialCreate] | None) -> list[CredentialCreate] | None:
    """A passport holds one entry per skill; two for the same skill are a mistake to report."""
    if value is None:
        return None
    codes = [c.code for c in value]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValueError(f"skill listed twice: {', '.join(twice)}")
    return value


class VolunteerCreate(BaseModel):
    """A new volunteer."""

    model_config = ConfigDict(extra="forbid")

    name: PlainText = Field(min_length=1, max_length=200)
    phone: PlainText = Field(min_length=3, max_length=40)
    location: GeoPoint
    skills: list[CredentialCreate] = Field(default_factory=list, max_length=50)
    max_travel_km: float | None = Field(default=None, gt=0, le=1000)
    languages: list[Language] = Field(default_factory=lambda: ["en"], max_length=10)
    organisations: list[OrganisationName] = Field(default_factory=list, max_length=20)
    availability: list[WindowCreate] = Field(default_factory=list, max_length=50)
    unavailable: list[UnavailableCreate] = Field(default_factory=list, max_length=50)
    status: Literal["active", "paused"] = "active"
    consent_at: Instant | None = Field(
        default=None,
        description="when the person consented; required, and after the erasure, to register again "
        "someone whose phone was erased",
    )

    _strip_name = field_validator("name")(non_blank_name)
    _normalise_phone = field_validator("phone")(_phone)
    _unique_skills = field_validator("skills")(_one_entry_per_skill)


class VolunteerUpdate(BaseModel):
    """A partial update; lists given here replace the stored ones."""

    model_config = ConfigDict(extra="forbid")

    name: PlainText | None = Field(default=None, min_length=1, max_length=200)
    phone: PlainText | None = Field(default=None, min_length=3, max_length=40)
    location: GeoPoint | None = None
    skills: list[CredentialCreate] | None = Field(default=None, max_length=50)
    max_travel_km: float | None = Field(default=None, gt=0, le=1000)
    languages: list[Language] | None = Field(default=None, max_length=10)
    organisations: list[OrganisationName] | None = Field(default=None, max_length=20)
    availability: list[WindowCreate] | None = Field(default=None, max_length=50)
    unavailable: list[UnavailableCreate] | None = Field(default=None, max_length=50)
    status: Literal["active", "paused", "opted_out"] | None = None

    _strip_name = field_validator("name")(non_blank_name)
    _normalise_phone = field_validator("phone")(lambda v: None if v is None else _phone(v))
    _unique_skills = field_validator("skills")(_one_entry_per_skill)


class VolunteerRead(BaseModel):
    """A volunteer as shown to admins and coordinators."""

    id: int
    name: str
    phone: str | None
    location: dict[str, Any] | None
    max_travel_km: float | None
    status: VolunteerStatus
    consent_at: datetime | None
    languages: list[str]
    organisations: list[str]
    skills: list[CredentialRead]
    availability: list[WindowRead]
    unavailable: list[UnavailableRead]
    last_called_at: datetime | None
    paused_until: datetime | None = None  # a PAUSE with an end (status paused without it: until BACK)
    phone_failed_at: datetime | None = None  # the number failed for good: correct it
    phone_failure_code: int | None = None
    created_at: datetime
    updated_at: datetime
    distance_km: float | None = None


class VolunteerPage(BaseModel):
    """One page of volunteers."""

    items: list[VolunteerRead]
    total: int
    limit: int
    offset: int


class ExportReceipt(BaseModel):
    """A delivery receipt for one of the person's messages."""

    status: str
    error_code: int | None
    received_at: datetime


class ExportMessage(BaseModel):
    """One SMS to or from the person, with its delivery receipts."""

    id: int
    direction: str
    kind: str
    status: str
    to_number: str
    from_number: str
    body: str
    segments: int
    callout_id: int | None
    incident_id: int | None
    provider_sid: str | None
    error_code: int | None
    error_message: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    receipts: list[ExportReceipt]


class ExportCallout(BaseModel):
    """One time the person was called up, and what happened."""

    id: int
    incident_id: int
    incident_title: str
    skill: str
    wave: int
    distance_km: float | None
    status: str
    reason: str | None
    called_at: datetime
    answered_at: datetime | None
    eta_minutes: int | None = None
    checkin: str | None = None
    checkin_at: datetime | None = None
    arrived_at: datetime | None = None
    done_at: datetime | None = None
    entered_hours: float | None = None
    welfare_asked_at: datetime | None = None
    welfare_ok_at: datetime | None = None


class ExportInboxItem(BaseModel):
    """One of the person's messages or silences a coordinator had to read, and how it was resolved."""

    id: int
    kind: str
    created_at: datetime
    message_id: int | None
    incident_id: int | None
    callout_id: int | None
    note: str | None
    handled_at: datetime | None
    resolution: str | None


class ExportAuditEvent(BaseModel):
    """One audit event about the person, their call-ups or their messages."""

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: int | None
    detail: dict[str, Any]


class VolunteerExport(BaseModel):
    """What the reserve and the engine hold on one person; app.subject adds what the packages above
    hold (inbox, passport reviews, hours) for the whole subject-access export."""

    exported_at: datetime
    profile: VolunteerRead
    credentials: list[CredentialRead]
    availability: list[WindowRead]
    unavailable: list[UnavailableRead]
    organisations: list[str]
    callouts: list[ExportCallout]
    messages: list[ExportMessage]
    audit: list[ExportAuditEvent]
