"""Request and response shapes for activities, hours totals and the passport's hours."""

import enum
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.activity.models import MAX_ACTIVITY_HOURS
from app.fields import INT4_MAX, PlainText
from app.volunteer.schemas import CredentialRead, GeoPoint, OrganisationName

# A volunteer named by id, or by their mobile in E.164 (as the reserve stores it).
VolunteerId = Annotated[int, Field(ge=1, le=INT4_MAX)]
E164 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+[1-9][0-9]{6,14}$")]
VolunteerRef = VolunteerId | E164
MAX_PEOPLE = 2000  # people at one activity: more is a mistake (or several activities)


class ActivityCreate(BaseModel):
    """A non-emergency activity as recorded by its organisation: where (a point, a town, or both: the
    point places it and the text names it), when, the hours each person gave, and who came."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[PlainText, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    organisation: OrganisationName
    held_on: date = Field(ge=date(1900, 1, 1))
    place: (
        Annotated[PlainText, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None
    ) = None
    location: GeoPoint | None = None
    # At least 0.01: the table keeps hundredths, and a smaller figure would be stored as no time at all.
    hours: float = Field(ge=0.01, le=MAX_ACTIVITY_HOURS, description="hours each person gave")
    volunteers: list[VolunteerRef] = Field(
        min_length=1, max_length=MAX_PEOPLE, description="volunteer ids, or mobiles in E.164 (+447...)"
    )

    @model_validator(mode="after")
    def check_where(self) -> "ActivityCreate":
        """Somewhere to count it in an area: a point, or a UK town or village to place it at."""
        if self.place is None and self.location is None:
            raise ValueError("give a location (a GeoJSON Point) or a place (a UK town or village)")
        return self


class ActivityRead(BaseModel):
    """An activity as recorded, with the ids of the volunteers who came."""

    id: int
    title: str
    organisation: str
    held_on: date
    place: str
    location: dict[str, Any]
    hours: float
    volunteer_ids: list[int]
    created_by: str
    created_at: datetime


class ActivityPage(BaseModel):
    """A page of activities, newest first."""

    items: list[ActivityRead]
    total: int
    limit: int
    offset: int


class ImportResult(BaseModel):
    """What an activities import wrote."""

    activities: int
    attendances: int


class Grouping(enum.StrEnum):
    """How hours totals are grouped."""

    organisation = "organisation"
    area = "area"
    skill = "skill"


class TotalRow(BaseModel):
    """Hours given and the number of different people who gave them, in one group."""

    key: str
    name: str
    people: int
    hours: float


class TotalsRead(BaseModel):
    """Hours totals by one grouping; groups of fewer than `suppressed_below` people are left out."""

    by: Grouping
    area: str | None
    suppressed_below: int | None
    rows: list[TotalRow]


class DeploymentRead(BaseModel):
    """One deployment on the passport: a confirmed call-up with the times the person was there, or the
    hours a coordinator entered for it."""

    callout_id: int
    incident_id: int
    incident_title: str
    role: str
    exercise: bool
    arrived_at: datetime | None
    done_at: datetime | None
    hours: float


class PassportActivity(BaseModel):
    """One activity on the passport."""

    id: int
    title: str
    organisation: str
    held_on: date
    place: str
    hours: float


class MilestoneRead(BaseModel):
    """A milestone of hours reached."""

    hours: int
    reached_at: datetime


class HoursRead(BaseModel):
    """Hours given, from deployments and from activities."""

    deployments: float
    activities: float
    total: float


class PassportRead(BaseModel):
    """A volunteer's passport: credentials, and the hours given with the milestones they reached."""

    volunteer_id: int
    credentials: list[CredentialRead]
    hours: HoursRead
    milestones: list[MilestoneRead]
    deployments: list[DeploymentRead]
    activities: list[PassportActivity]
