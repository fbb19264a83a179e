"""The SMS sender chosen by settings: Twilio (or a Twilio-compatible server), else the console."""

from functools import lru_cache

from alerts.pool import SenderPool
from alerts.sender import SEND_TIMEOUT_S, ConsoleSender, Sender, TwilioSender
from app.settings import Settings, get_settings


def build_sender(settings: Settings) -> Sender:
    """A Twilio sender when SMS_PROVIDER=twilio (TWILIO_API_BASE points it at the simulator), else console."""
    if settings.sms_provider == "twilio":
        return TwilioSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            from_number=settings.default_from_number or None,
            messaging_service_sid=settings.twilio_messaging_service_sid or None,
            api_base=settings.twilio_api_base or None,
            timeout_s=SEND_TIMEOUT_S,
        )
    return ConsoleSender()


@lru_cache
def get_sender() -> Sender:
    """One sender per process, so HTTP connections are pooled."""
    return build_sender(get_settings())


def status_callback_url(settings: Settings) -> str:
    """Where the provider posts delivery receipts."""
    return settings.public_base_url.rstrip("/") + "/webhooks/twilio/status"


def sender_pool(settings: Settings) -> SenderPool:
    """Our senders as the settings name them: a list of numbers, else the Messaging Service's pool."""
    service = bool(settings.twilio_messaging_service_sid) and not settings.twilio_sender_numbers
    return SenderPool(
        numbers=tuple(settings.twilio_sender_numbers),
        size=settings.twilio_messaging_service_senders if service else 1,
        rate_per_sender=settings.sms_rate_per_second,
    )
