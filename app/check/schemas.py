"""What recording, confirming and withdrawing a check sends, and what each reader sees of one."""

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from app.check.models import WORKFORCE_LEVELS, CheckLevel, CheckScheme, CheckState, Workforce
from app.fields import PlainText, Reason
from app.volunteer.schemas import OrganisationName
from app.volunteer.service import today_uk

EARLIEST = date(1900, 1, 1)
# A DBS certificate number is 12 digits, a PVG scheme membership number 16; letters, spaces and hyphens
# are let through for other bodies' formats (AccessNI), nothing else.
CertificateNumber = Annotated[
    PlainText,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$"
    ),
]


def _past(value: date | None) -> date | None:
    """A certificate is issued, and the update service checked, on a real day up to today."""
    if value is not None and not EARLIEST <= value <= today_uk():
        raise ValueError("must be a day between 1900 and today")
    return value


def _renewal(value: date | None) -> date | None:
    """A PVG renewal date may have passed (a lapsed membership) but is a real day."""
    if value is not None and not EARLIEST <= value <= date(2200, 1, 1):
        raise ValueError("must be a day between 1900 and 2200")
    return value


class CheckCreate(BaseModel):
    """A check as its certificate shows it. An enhanced check (with or without the barred lists) names
    its workforce, a lower one does not; a PVG membership is for the barred lists, has a renewal date and
    no DBS update service."""

    model_config = ConfigDict(extra="forbid")

    scheme: CheckScheme
    level: CheckLevel
    workforce: Workforce | None = Field(default=None, description="for enhanced levels only")
    certificate_number: CertificateNumber
    certificate_date: date = Field(description="the date printed on the certificate (issue date)")
    update_service_checked_on: date | None = Field(
        default=None, description="DBS only: when the update service last said it is still current"
    )
    pvg_renewal_on: date | None = Field(default=None, description="PVG only, and required: its renewal date")
    organisation: OrganisationName | None = Field(
        default=None,
        description="whose check this is: an administrator names it; an organisation's token records its own",
    )

    _dates_in_the_past = field_validator("certificate_date", "update_service_checked_on")(_past)
    _renewal_in_range = field_validator("pvg_renewal_on")(_renewal)

    @model_validator(mode="after")
    def as_the_law_defines(self) -> Self:
        """The combinations a real certificate can have."""
        if self.level in WORKFORCE_LEVELS and self.workforce is None:
            raise ValueError(
                f"workforce: a {self.level.value} check names its workforce (children, adults, both)"
            )
        if self.level not in WORKFORCE_LEVELS and self.workforce is not None:
            raise ValueError(f"workforce: a {self.level.value} check is not for a workforce; leave it out")
        if self.scheme is CheckScheme.pvg:
            if self.level is not CheckLevel.enhanced_barred:
                raise ValueError("level: PVG scheme membership is a barred-list check (enhanced_barred)")
            if self.pvg_renewal_on is None:
                raise ValueError("pvg_renewal_on: a PVG scheme membership has a renewal date")
            if self.update_service_checked_on is not None:
                raise ValueError("update_service_checked_on: the DBS update service does not cover PVG")
        elif self.pvg_renewal_on is not None:
            raise ValueError("pvg_renewal_on: only a PVG scheme membership has a renewal date")
        dates_in_order(self.certificate_date, self.update_service_checked_on, self.pvg_renewal_on)
        return self


def dates_in_order(certificate_date: date, update_service: date | None, renewal: date | None) -> None:
    """The update service checks a certificate after it was issued; a membership is renewed after."""
    if update_service is not None and update_service < certificate_date:
        raise ValueError("update_service_checked_on: is before the certificate date")
    if renewal is not None and renewal <= certificate_date:
        raise ValueError("pvg_renewal_on: must be after the certificate date")


class CheckUpdate(BaseModel):
    """A check confirmed again: the DBS update service re-checked, or a PVG membership renewed."""

    model_config = ConfigDict(extra="forbid")

    update_service_checked_on: date | None = None
    pvg_renewal_on: date | None = None

    _dates_in_the_past = field_validator("update_service_checked_on")(_past)
    _renewal_in_range = field_validator("pvg_renewal_on")(_renewal)

    @model_validator(mode="after")
    def something(self) -> Self:
        """An update that changes nothing is a mistake."""
        if self.update_service_checked_on is None and self.pvg_renewal_on is None:
            raise ValueError("give update_service_checked_on (DBS) or pvg_renewal_on (PVG)")
        return self


class CheckWithdraw(BaseModel):
    """Why a check no longer counts (recorded in error, a new disclosure, barred)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class CheckRead(BaseModel):
    """A check as its reader may see it: the certificate number only for administrators and the
    organisation that recorded it (null for anyone else)."""

    id: int
    volunteer_id: int
    scheme: CheckScheme
    level: CheckLevel
    workforce: Workforce | None
    certificate_number: str | None = Field(
        description="only to administrators and the recording organisation; null for anyone else"
    )
    certificate_date: date
    update_service_checked_on: date | None
    pvg_renewal_on: date | None
    renew_by: date = Field(description="the last day it counts, unless confirmed again")
    state: CheckState = Field(description="current, expiring (within 60 days of renew_by) or lapsed")
    organisation: str
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None


class PassportCheck(BaseModel):
    """A check on the volunteer's own page: what it is and where it stands, never its number."""

    scheme: CheckScheme
    level: CheckLevel
    workforce: Workforce | None
    state: CheckState
    renew_by: date
