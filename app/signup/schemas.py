"""What a member of the public sends from /join, and what they get back."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.fields import PlainText
from app.volunteer.phone import normalise_mobile
from app.volunteer.schemas import GeoPoint, Language, OrganisationName, non_blank_name

# When someone is usually free, in words a person ticks, each a set of weekly windows (UK time).
Usually = Literal["weekday_daytime", "weekday_evening", "weekend"]


class SignupCreate(BaseModel):
    """A sign-up: who, where from (a pin or a town), how far, what they can do, and their consent."""

    model_config = ConfigDict(extra="forbid")

    name: PlainText = Field(min_length=1, max_length=200)
    phone: PlainText = Field(min_length=3, max_length=40, description="a UK mobile number")
    location: GeoPoint | None = Field(default=None, description="a pin where they can respond from")
    town: PlainText | None = Field(default=None, max_length=80, description="or a UK town of 15,000+")
    max_travel_km: float = Field(default=20, gt=0, le=200)
    skills: list[PlainText] = Field(default_factory=list, max_length=30, description="claimed, unverified")
    organisations: list[OrganisationName] = Field(default_factory=list, max_length=10)
    languages: list[Language] = Field(default_factory=lambda: ["en"], max_length=10)
    availability: list[Usually] = Field(
        default_factory=list, max_length=3, description="none ticked: any time"
    )
    consent: Literal[True] = Field(description="the service consent, ticked by the person")
    consent_version: PlainText = Field(max_length=20, description="the version of the wording they read")
    marketing: bool = Field(default=False, description="news by SMS: a separate, unticked choice")

    _strip_name = field_validator("name")(non_blank_name)
    _normalise_phone = field_validator("phone")(normalise_mobile)

    @model_validator(mode="after")
    def one_place(self) -> "SignupCreate":
        """Exactly one of a pin and a town says where they respond from."""
        town = (self.town or "").strip()
        if (self.location is None) == (not town):
            raise ValueError("give where you can respond from: a pin on the map or a town, not both")
        self.town = town or None
        return self


class SignupStarted(BaseModel):
    """A sign-up accepted: the code is on its way to the number."""

    signup: str = Field(description="the reference to verify with; keep it in the page, not a URL")
    phone_ending: str = Field(description="the last three digits of the number the code went to")
    code_expires_at: datetime
    resend_after_s: int


class SignupRef(BaseModel):
    """Which sign-up (the reference from SignupStarted), for asking for a new code."""

    model_config = ConfigDict(extra="forbid")

    signup: PlainText = Field(min_length=1, max_length=64)


class CodeEntry(SignupRef):
    """The code from the SMS, for this sign-up."""

    code: PlainText = Field(min_length=1, max_length=20)


class SignupVerified(BaseModel):
    """The phone is verified: they are on the reserve (or their details are updated)."""

    state: Literal["verified"] = "verified"
