"""Settings: the only module that reads the environment."""

import re
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "test", "dev", "development"}
# Where a worker kills itself on purpose (tests only; see workers/faults.py). Empty: never.
FaultPoint = Literal["", "after_dequeue", "after_claim", "mid_send", "after_accept"]
SIMULATOR_ACCOUNT_SID = "AC00000000000000000000000000000000"
SIMULATOR_AUTH_TOKEN = "simulator-auth-token-not-secret"  # noqa: S105 (local simulator only)
DEVELOPMENT_ERASURE_KEY = "development-erasure-key-not-secret"
DEVELOPMENT_BADGE_KEY_SECRET = "development-badge-key-secret-not-secret"  # noqa: S105 (development only)


class Settings(BaseSettings):
    """Process configuration from environment variables (and a `.env` file when present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/nvr"
    redis_url: str = "redis://127.0.0.1:6379/0"
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"

    sms_provider: Literal["console", "twilio"] = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base: str = ""
    sms_validity_seconds: int = Field(default=1800, ge=60, le=36000)
    # Segments a second EACH sender may send (a UK long code about 10, a short code about 100); the
    # service's rate is the pool's sum (alerts.pool).
    sms_rate_per_second: float = Field(default=10.0, gt=0)
    # Our sending numbers, comma-separated: each person is texted from one of them, each has its own rate.
    twilio_sender_numbers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # How many numbers the Messaging Service's pool holds (Twilio picks among them).
    twilio_messaging_service_senders: int = Field(default=1, ge=1, le=10000)
    send_max_attempts: int = Field(default=5, ge=1, le=20)
    send_backoff_base_s: float = Field(default=2.0, gt=0)
    send_backoff_cap_s: float = Field(default=120.0, gt=0)
    # A killed worker's messages are sent again within about lease + reconcile interval + a send (at most
    # alerts.sender.SEND_TIMEOUT_S).
    reconcile_every_s: int = Field(default=2, ge=1)
    # A claim lasts this long unless its worker's heartbeat (every third of it) renews it; the heartbeat,
    # not the lease, covers a provider call as long as alerts.sender.SEND_TIMEOUT_S.
    message_lease_s: int = Field(default=6, ge=3)
    capacity_refresh_every_s: int = Field(default=300, ge=10)
    fault_point: FaultPoint = ""

    default_overask: float = Field(default=2.0, ge=1.0, le=20.0)
    default_wave_timeout_s: int = Field(default=600, ge=1)
    radius_step_km: float = Field(default=10.0, gt=0)
    max_radius_km: float = Field(default=80.0, gt=0)
    # A deployed volunteer who has not answered the welfare check this long after it was asked goes to
    # the coordinators' inbox as needing a call.
    welfare_timeout_s: int = Field(default=7200, ge=60)
    # A DBS certificate has no legal expiry: a check counts for this many years from its certificate
    # date or its last DBS update service check, whichever is later (app/check); PVG has its own date.
    check_renewal_years: int = Field(default=3, ge=1, le=10)

    # Keys the one-way fingerprint of an erased person's phone (app/volunteer/phone.py); changing it
    # forgets every erasure, so an erased person could then be imported again without fresh consent.
    erasure_key: str = DEVELOPMENT_ERASURE_KEY
    # Encrypts the passport's signing keys at rest (app/badge/keys.py); changing it makes the stored
    # keys unreadable, so `nvr keys rotate` must then make a new one (old signatures still verify).
    badge_key_secret: str = DEVELOPMENT_BADGE_KEY_SECRET
    # Who issues the volunteer passport's credentials, as their documents name it.
    badge_issuer_name: str = "National Volunteer Reserve"

    # Where a member of the public signs up; a text from a number we do not know is answered with it.
    # Empty: this service's own /join page (at public_base_url).
    signup_url: str = ""
    # Sign-ups one client address may start per window (a community centre shares one address, so this
    # is generous; each number is also limited to CODES_PER_NUMBER codes an hour, app/signup/service.py).
    signups_per_client: int = Field(default=30, ge=1)
    signup_window_s: int = Field(default=600, ge=1)

    basemap_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    basemap_attribution: str = "© OpenStreetMap contributors"

    @model_validator(mode="after")
    def refuse_placeholder_secrets(self) -> "Settings":
        """Outside development, refuse a placeholder, missing or simulator Twilio secret."""
        if self.environment != "development" and self.sms_provider == "twilio":
            if self.twilio_auth_token.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(f"TWILIO_AUTH_TOKEN is a placeholder ({self.environment}); set the real one")
            if self.twilio_auth_token == SIMULATOR_AUTH_TOKEN:
                raise ValueError(
                    f"TWILIO_AUTH_TOKEN is the simulator's; set the real one ({self.environment})"
                )
        if self.environment == "production" and (
            self.erasure_key.strip().lower() in PLACEHOLDER_SECRETS
            or self.erasure_key == DEVELOPMENT_ERASURE_KEY
            or len(self.erasure_key) < 16
        ):
            raise ValueError(
                "ERASURE_KEY is a placeholder (production); set a random secret of 16+ characters"
            )
        if self.environment == "production" and (
            self.badge_key_secret.strip().lower() in PLACEHOLDER_SECRETS
            or self.badge_key_secret == DEVELOPMENT_BADGE_KEY_SECRET
            or len(self.badge_key_secret) < 16
        ):
            raise ValueError(
                "BADGE_KEY_SECRET is a placeholder (production); set a random secret of 16+ characters"
            )
        if self.sms_provider == "twilio" and not (
            self.twilio_from_number or self.twilio_messaging_service_sid or self.twilio_sender_numbers
        ):
            raise ValueError(
                "SMS_PROVIDER=twilio needs TWILIO_FROM_NUMBER, TWILIO_SENDER_NUMBERS "
                "or TWILIO_MESSAGING_SERVICE_SID"
            )
        return self

    @property
    def default_from_number(self) -> str:
        """The number texts leave from unless the sender pool picks one: TWILIO_FROM_NUMBER, else the
        first of TWILIO_SENDER_NUMBERS ("" through a Messaging Service alone)."""
        return self.twilio_from_number or next(iter(self.twilio_sender_numbers), "")

    @field_validator("twilio_sender_numbers", mode="before")
    @classmethod
    def _sender_numbers(cls, value: object) -> object:
        """A comma-separated list of E.164 numbers, each once."""
        if not isinstance(value, str):
            return value
        numbers = [n.strip() for n in value.split(",") if n.strip()]
        wrong = [n for n in numbers if not _E164.fullmatch(n)]
        if wrong:
            raise ValueError(f"TWILIO_SENDER_NUMBERS must be E.164 numbers (+447700900000): {wrong[0]!r}")
        if len(set(numbers)) != len(numbers):
            raise ValueError("TWILIO_SENDER_NUMBERS lists a number twice")
        return numbers


_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@lru_cache
def get_settings() -> Settings:
    """Settings are read once per process."""
    return Settings()
