"""Verifying a Twilio webhook: its signature over our public URL, and that the signature is new."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import ReturningInsert

from alerts.signature import SIGNATURE_HEADER, is_valid_signature
from app.errors import Conflict, Forbidden
from app.settings import Settings, get_settings
from app.webhook.models import WebhookSignature

MAX_SIGNATURE = 100  # HMAC-SHA1 in base64 is 28 characters, SHA-256 44


class BadSignature(Forbidden):
    """X-Twilio-Signature is missing or does not match."""

    title = "Webhook refused"


class ReplayedWebhook(Conflict):
    """This signature was already used: a replay, or a forgery built from a captured webhook."""

    title = "Webhook refused"


@dataclass(frozen=True)
class Webhook:
    """A webhook as received: its path, the URL Twilio signed, its form fields and signature."""

    path: str
    url: str
    params: dict[str, str]
    signature: str


def public_url(request: Request, settings: Settings) -> str:
    """The exact URL Twilio signed: our public base (we may be behind a proxy) plus path and query."""
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def twilio_webhook(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> Webhook:
    """The webhook's form fields and signature, unverified; 403 when webhooks are disabled."""
    if not settings.twilio_auth_token:
        raise Forbidden("Twilio webhooks are disabled: TWILIO_AUTH_TOKEN is not set")
    form = await request.form()
    return Webhook(
        path=request.url.path,
        url=public_url(request, settings),
        params={key: str(value) for key, value in form.multi_items()},
        signature=request.headers.get(SIGNATURE_HEADER, ""),
    )


def verify(webhook: Webhook, *, auth_token: str) -> None:
    """Refuse a webhook whose signature is missing, oversized or not Twilio's for our URL."""
    signature = webhook.signature
    if len(signature) > MAX_SIGNATURE or not is_valid_signature(
        auth_token, webhook.url, webhook.params, signature
    ):
        raise BadSignature(f"invalid or missing {SIGNATURE_HEADER}")


def claim(signature: str) -> ReturningInsert[str]:
    """The statement that records a signature and returns it, or returns nothing when it was seen."""
    return (
        insert(WebhookSignature)
        .values(signature=signature)
        .on_conflict_do_nothing(index_elements=[WebhookSignature.signature])
        .returning(WebhookSignature.signature)
    )


def replayed() -> ReplayedWebhook:
    """The refusal for a signature already used."""
    return ReplayedWebhook(f"this {SIGNATURE_HEADER} was already used")


TwilioWebhook = Annotated[Webhook, Depends(twilio_webhook)]
