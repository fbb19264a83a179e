"""Verifying a Twilio webhook: its signature over our public URL, and that the signature is new.

The webhook is read from the request by the route module (app/api/webhooks.py); this one needs no HTTP.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from alerts.signature import SIGNATURE_HEADER, is_valid_signature
from app.errors import Conflict, Forbidden
from app.webhook.models import WebhookSignature

MAX_SIGNATURE = 100  # HMAC-SHA1 in base64 is 28 characters, SHA-256 44
SIGNATURES_KEPT = timedelta(days=7)
FORGET_BATCH = 10_000  # signatures forgotten per pass: a short DELETE however long the backlog


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


def forget_old(session: Session) -> int:
    """Forget signatures older than SIGNATURES_KEPT (database clock), a batch at a time; returns how
    many. Every webhook adds one, so without this the table grows for ever. A replay of a webhook
    older than that changes nothing: an inbound SMS is kept once per MessageSid, and a receipt never
    moves a message back."""
    old = (
        select(WebhookSignature.signature)
        .where(WebhookSignature.received_at < func.now() - SIGNATURES_KEPT)
        .limit(FORGET_BATCH)
    )
    gone = session.scalars(
        delete(WebhookSignature)
        .where(WebhookSignature.signature.in_(old))
        .returning(WebhookSignature.signature)
    )
    return len(gone.all())
