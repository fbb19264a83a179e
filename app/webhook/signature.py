"""One dependency verifies every Twilio webhook against the configured public URL."""

from typing import Annotated

from fastapi import Depends, Request

from alerts.signature import is_valid_signature
from app.errors import Forbidden
from app.settings import Settings, get_settings


def public_url(request: Request, settings: Settings) -> str:
    """The exact URL Twilio signed: our public base (we may be behind a proxy) plus path and query."""
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def twilio_form(
    request: Request, settings: Annotated[Settings, Depends(get_settings)]
) -> dict[str, str]:
    """The webhook's form fields, once `X-Twilio-Signature` proves Twilio sent them; 403 otherwise."""
    if not settings.twilio_auth_token:
        raise Forbidden("Twilio webhooks are disabled: TWILIO_AUTH_TOKEN is not set")
    form = await request.form()
    params = {key: str(value) for key, value in form.multi_items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not is_valid_signature(settings.twilio_auth_token, public_url(request, settings), params, signature):
        raise Forbidden("invalid or missing X-Twilio-Signature")
    return params


TwilioForm = Annotated[dict[str, str], Depends(twilio_form)]
