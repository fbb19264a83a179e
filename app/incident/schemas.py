"""Request and response shapes for incidents."""

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.check.models import WORKFORCE_LEVELS, CheckLevel, Workforce
from app.fields import Instant, PlainText
from app.incident.models import IncidentKind, IncidentStatus
from app.volunteer.schemas import GeoPoint, OrganisationName
from geo.geojson import parse_area

MAX_AREA_KM2 = 50_000


class NeedCheck(BaseModel):
    """The disclosure and barring check everyone called for a need must hold: at least `check_level`,
    and from enhanced up for `check_workforce` (both: one check for both, or one for each)."""

    check_level: CheckLevel | None = None
    check_workforce: Workforce | None = None

    @model_validator(mode="after")
    def workforce_with_enhanced(self) -> Self:
        """A workforce goes with an enhanced level, as on a certificate."""
        if self.check_level is None and self.check_workforce is not None:
            raise ValueError("check_workforce: give check_level too")
        if self.check_level in WORKFORCE_LEVELS and self.check_workforce is None:
            raise ValueError(f"check_workforce: a {self.check_level} check names its workforce")
        if self.check_level is not None and self.check_level not in WORKFORCE_LEVELS and self.check_workforce:
            raise ValueError(f"check_workforce: a {self.check_level} check is not for a workforce")
        return self


class NeedCreate(NeedCheck):
    """How many people with one skill (and, optionally, which check)."""

    model_config = ConfigDict(extra="forbid")

    skill: PlainText = Field(min_length=1, max_length=40)
    count: int = Field(ge=1, le=5000)


class RendezvousCreate(BaseModel):
    """Where accepted volunteers go."""

    model_config = ConfigDict(extra="forbid")

    point: GeoPoint
    text: PlainText = Field(min_length=1, max_length=120)


class IncidentCreate(BaseModel):
    """A new incident; declaring it starts the first wave at once."""

    model_config = ConfigDict(extra="forbid")

    title: PlainText = Field(min_length=1, max_length=200)
    kind: IncidentKind
    area: dict[str, Any]
    radius_km: float = Field(default=10.0, ge=0, le=200)
    needs: list[NeedCreate] = Field(min_length=1, max_length=20)
    exercise: bool = False
    rendezvous: RendezvousCreate | None = None
    starts_at: Instant | None = None
    notes: PlainText = Field(default="", max_length=4000)
    place: PlainText | None = Field(default=None, min_length=1, max_length=60)
    overask: float | None = Field(default=None, ge=1.0, le=20.0)
    wave_timeout_s: int | None = Field(default=None, ge=1, le=86_400)
    max_radius_km: float | None = Field(default=None, gt=0, le=300)
    radius_step_km: float | None = Field(default=None, gt=0, le=300)

    @field_validator("area")
    @classmethod
    def check_area(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Refuse invalid, empty, self-intersecting or absurdly large areas with a message saying why."""
        parse_area(value, max_area_km2=MAX_AREA_KM2)
        return value

    @field_validator("needs")
    @classmethod
    def one_need_per_skill(cls, value: list[NeedCreate]) -> list[NeedCreate]:
        """Each skill is one need; two entries for the same skill are a mistake."""
        _refuse_repeated_skills([n.skill for n in value])
        return value


class AskCreate(IncidentCreate):
    """An organisation's ask for help that is not an emergency: an incident's body (title, kind, the
    place as a GeoJSON point or area, when it starts, needs with counts) and who asks. It is called up
    in the same waves as an incident, every text marked as not an emergency.

    An organisation's own token may leave `organisation` out (it asks for itself only); admins and
    coordinators must name it.
    """

    kind: IncidentKind = IncidentKind.community
    starts_at: Instant
    organisation: OrganisationName | None = Field(
        default=None, description="the organisation asking (exact name); its own token may leave it out"
    )


class NeedUpdate(NeedCheck):
    """A new count for one need, or a new need when the incident has none for this skill; a check
    given (null: none) replaces the need's for the people called from now on."""

    model_config = ConfigDict(extra="forbid")

    skill: PlainText = Field(max_length=40)
    count: int = Field(ge=1, le=5000)


class IncidentUpdate(BaseModel):
    """Changes a coordinator can make to an open incident.

    A need for a new skill is added; `radius_km` widens the search of every need now (it never
    narrows one); `max_radius_km` is how far the search may widen (never past the deployment's
    maximum); a new rendezvous is texted to everyone confirmed.
    """

    model_config = ConfigDict(extra="forbid")

    needs: list[NeedUpdate] = Field(default_factory=list, max_length=20)
    notes: PlainText | None = Field(default=None, max_length=4000)
    radius_km: float | None = Field(default=None, gt=0, le=200)
    max_radius_km: float | None = Field(default=None, gt=0, le=300)
    rendezvous: RendezvousCreate | None = None

    @field_validator("needs")
    @classmethod
    def one_change_per_skill(cls, value: list[NeedUpdate]) -> list[NeedUpdate]:
        """Two changes to the same need are a mistake."""
        _refuse_repeated_skills([n.skill for n in value])
        return value


class IncidentClose(BaseModel):
    """Why an incident is closed; texted to everyone called and kept with the incident."""

    model_config = ConfigDict(extra="forbid")

    reason: PlainText | None = Field(default=None, min_length=1, max_length=300)


class UpdateSend(BaseModel):
    """A text to everyone confirmed ("go to X instead"); at most two SMS segments with its prefix."""

    model_config = ConfigDict(extra="forbid")

    text: PlainText = Field(min_length=1, max_length=306)


class UpdateSent(BaseModel):
    """How many confirmed people the update was texted to."""

    sent: int


class CalloutRelease(BaseModel):
    """Why a coordinator releases one person (kept on the call-up and in the audit trail, not texted)."""

    model_config = ConfigDict(extra="forbid")

    reason: PlainText = Field(min_length=1, max_length=190)


# A figure entered for one deployment: a week on the ground at most.
MAX_ENTERED_HOURS = 168


class AttendanceUpdate(BaseModel):
    """When a confirmed person arrived and finished, or their hours as a figure, as a coordinator knows
    it; null clears a time or the figure."""

    model_config = ConfigDict(extra="forbid")

    arrived_at: Instant | None = None
    done_at: Instant | None = None
    hours: float | None = Field(
        default=None,
        ge=0.01,
        le=MAX_ENTERED_HOURS,
        description="hours as a figure, instead of done - arrived",
    )


class NeedRead(BaseModel):
    """A need and how far it has got."""

    skill: str
    count: int
    called: int
    accepted: int
    declined: int
    pending: int
    stood_down: int
    failed: int
    filled: bool
    waves: int
    search_radius_km: float
    exhausted: bool
    check_level: CheckLevel | None = None
    check_workforce: Workforce | None = None
    unverified: int | None = Field(
        default=None,
        description="people within the search radius left out only because their credential awaits "
        "verification (one open incident's own page only; never in lists or maps)",
    )


class IncidentRead(BaseModel):
    """An incident with the progress of each need."""

    id: int
    title: str
    kind: IncidentKind
    status: IncidentStatus
    exercise: bool
    emergency: bool = Field(description="false for an organisation's ask, marked as not an emergency")
    organisation: str | None = Field(description="the organisation that asked, for an ask")
    area: dict[str, Any]
    radius_km: float
    place: str
    rendezvous: dict[str, Any] | None
    starts_at: datetime
    notes: str
    overask: float
    wave_timeout_s: int
    max_radius_km: float
    radius_step_km: float
    created_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    needs: list[NeedRead]


class IncidentPage(BaseModel):
    """A page of incidents."""

    items: list[IncidentRead]
    total: int


class CalloutRead(BaseModel):
    """Who was called for what, when, and what happened."""

    id: int
    volunteer_id: int
    name: str
    phone: str | None
    skill: str
    wave: int
    distance_km: float | None
    status: str
    reason: str | None
    called_at: datetime
    answered_at: datetime | None
    last_message_status: str | None
    eta_minutes: int | None
    checkin: str | None
    arrived_at: datetime | None
    done_at: datetime | None
    hours: float | None


def hours_between(
    arrived_at: datetime | None, done_at: datetime | None, entered: float | None = None
) -> float | None:
    """Hours on duty, to the hundredth: a coordinator's entered figure, else done - arrived; None until
    one of them is known."""
    if entered is not None:
        return round(entered, 2)
    if arrived_at is None or done_at is None:
        return None
    return round((done_at - arrived_at).total_seconds() / 3600, 2)


def _refuse_repeated_skills(skills: list[str]) -> None:
    """A skill named twice in one request is a mistake (ValueError: pydantic makes it a 422)."""
    repeated = sorted({s for s in skills if skills.count(s) > 1})
    if repeated:
        raise ValueError(f"skill listed twice: {', '.join(repeated)}")
