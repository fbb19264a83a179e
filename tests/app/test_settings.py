"""Settings refuse placeholder secrets outside development."""

import pytest
from pydantic import ValidationError

from app.settings import DEVELOPMENT_BADGE_KEY_SECRET, DEVELOPMENT_ERASURE_KEY, SIMULATOR_AUTH_TOKEN, Settings

TWILIO = {"sms_provider": "twilio", "twilio_from_number": "+447700900000", "twilio_account_sid": "AC1"}


@pytest.mark.parametrize("token", ["", "changeme", "secret", SIMULATOR_AUTH_TOKEN])
@pytest.mark.parametrize("environment", ["production", "test"])
def test_placeholder_secrets_are_refused_outside_development(token: str, environment: str) -> None:
    with pytest.raises(ValidationError, match="TWILIO_AUTH_TOKEN"):
        Settings(environment=environment, twilio_auth_token=token, **TWILIO)


def test_development_may_use_the_simulator_token() -> None:
    settings = Settings(environment="development", twilio_auth_token=SIMULATOR_AUTH_TOKEN, **TWILIO)
    assert settings.twilio_auth_token == SIMULATOR_AUTH_TOKEN


def test_twilio_needs_a_sender() -> None:
    with pytest.raises(ValidationError, match="TWILIO_SENDER_NUMBERS or TWILIO_MESSAGING_SERVICE_SID"):
        Settings(
            sms_provider="twilio",
            twilio_auth_token="a-real-looking-token",
            twilio_from_number="",
            twilio_messaging_service_sid="",
        )


def test_a_real_token_in_production_is_accepted() -> None:
    settings = Settings(
        environment="production",
        twilio_auth_token="4f1c0e7b9a2d",
        erasure_key="k" * 32,
        badge_key_secret="b" * 32,
        **TWILIO,
    )
    assert settings.environment == "production"


@pytest.mark.parametrize("key", ["", "secret", "short-key", DEVELOPMENT_ERASURE_KEY])
def test_production_refuses_a_placeholder_erasure_key(key: str) -> None:
    with pytest.raises(ValidationError, match="ERASURE_KEY"):
        Settings(environment="production", twilio_auth_token="4f1c0e7b9a2d", erasure_key=key, **TWILIO)


@pytest.mark.parametrize("secret", ["", "changeme", "too-short", DEVELOPMENT_BADGE_KEY_SECRET])
def test_production_refuses_a_placeholder_badge_key_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="BADGE_KEY_SECRET"):
        Settings(
            environment="production",
            twilio_auth_token="4f1c0e7b9a2d",
            erasure_key="k" * 32,
            badge_key_secret=secret,
            **TWILIO,
        )


def test_sender_numbers_are_a_comma_separated_list_of_e164_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_SENDER_NUMBERS", " +447700900001, +447700900002 ")
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "")
    settings = Settings()
    assert settings.twilio_sender_numbers == ["+447700900001", "+447700900002"]
    assert settings.default_from_number == "+447700900001"
    for wrong, reason in (("+447700900001,07700900002", "E.164"), ("+447700900001,+447700900001", "twice")):
        monkeypatch.setenv("TWILIO_SENDER_NUMBERS", wrong)
        with pytest.raises(ValidationError, match=reason):
            Settings()
