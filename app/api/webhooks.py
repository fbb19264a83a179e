"""Twilio's webhooks: inbound SMS (and its fallback URL) and delivery receipts.

Each is admitted only with a valid signature over our public URL, a signature never seen before, and
fields of exactly Twilio's shape; a refusal is a 4xx problem+json, recorded without personal data.
An admitted webhook is stored in one short transaction that commits before we answer, so a 2xx means
it is durable; what it asks for happens right after (see app/webhook/inbox.py).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from alerts.signature import SIGNATURE_HEADER
from app.api.deps import SessionDep, SettingsDep
from app.errors import Forbidden
from app.settings import Settings
from app.webhook.fields import RefusedWebhook, inbound_sms, receipt
from app.webhook.inbox import act_on_stored, apply_receipt_batch, schedule_inbound, schedule_receipts
from app.webhook.service import record_refusal, store_inbound, store_receipt_once
from app.webhook.signature import BadSignature, ReplayedWebhook, Webhook, verify

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
REFUSALS = (BadSignature, RefusedWebhook, ReplayedWebhook)
REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "bad signature"},
    409: {"description": "signature already used"},
    422: {"description": "fields not shaped as Twilio sends them"},
}


def public_url(request: Request, settings: Settings) -> str:
    """The exact URL Twilio signed: our public base (we may be behind a proxy) plus path and query."""
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def twilio_webhook(request: Request, settings: SettingsDep) -> Webhook:
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


TwilioWebhook = Annotated[Webhook, Depends(twilio_webhook)]


class Consequences:
    """By default the consequences of a stored webhook are queued for a worker once it has committed."""

    def inbound(self, session: Session) -> None:
        """Queue a job that acts on stored SMS (one per burst)."""
        schedule_inbound()

    def receipts(self, session: Session) -> None:
        """Queue a job that applies stored receipts."""
        schedule_receipts()


class InlineConsequences(Consequences):
    """Act at once in the request's own session after the store has committed (a process without
    workers; the in-transaction API tests)."""

    def inbound(self, session: Session) -> None:
        """Act on stored SMS now."""
        act_on_stored(session)

    def receipts(self, session: Session) -> None:
        """Apply stored receipts now."""
        while apply_receipt_batch(session):
            session.commit()


async def get_consequences() -> Consequences:
    """Where the consequences of webhooks run (a dependency, so a process may choose inline); async, so
    FastAPI calls it without a thread hop."""
    return Consequences()


ConsequencesDep = Annotated[Consequences, Depends(get_consequences)]


@contextmanager
def refusals_recorded(session: Session, webhook: Webhook) -> Iterator[None]:
    """A refusal inside the block is recorded in the audit trail (committed), then raised."""
    try:
        yield
    except REFUSALS as refused:
        session.rollback()
        record_refusal(session, path=webhook.path, refused=refused)
        session.commit()
        raise


def _inbound(webhook: Webhook, session: Session, settings: Settings, consequences: Consequences) -> Response:
    with refusals_recorded(session, webhook):
        verify(webhook, auth_token=settings.twilio_auth_token)
        sms = inbound_sms(webhook.params, account_sid=settings.twilio_account_sid)
        stored = store_inbound(session, sms=sms, signature=webhook.signature)
    session.commit()  # the 2xx means it is stored
    if stored is not None:
        consequences.inbound(session)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/sms", responses=REFUSED)
def inbound(
    webhook: TwilioWebhook, session: SessionDep, settings: SettingsDep, consequences: ConsequencesDep
) -> Response:
    """A volunteer's SMS: stored, then acted on; answers go out as separate SMS (empty TwiML)."""
    return _inbound(webhook, session, settings, consequences)


@router.post("/sms/fallback", responses=REFUSED)
def inbound_fallback(
    webhook: TwilioWebhook, session: SessionDep, settings: SettingsDep, consequences: ConsequencesDep
) -> Response:
    """Twilio's fallback URL for inbound SMS: called when /sms fails or times out; same MessageSid,
    so a message both reached is acted on once."""
    return _inbound(webhook, session, settings, consequences)


@router.post("/status", status_code=204, responses=REFUSED)
def delivery_receipt(
    webhook: TwilioWebhook, session: SessionDep, settings: SettingsDep, consequences: ConsequencesDep
) -> Response:
    """A delivery receipt: stored once per (MessageSid, status), applied right after, in bulk."""
    with refusals_recorded(session, webhook):
        verify(webhook, auth_token=settings.twilio_auth_token)
        fields = receipt(webhook.params, account_sid=settings.twilio_account_sid)
        stored = store_receipt_once(session, receipt=fields, signature=webhook.signature)
    session.commit()
    if stored:
        consequences.receipts(session)
    return Response(status_code=204)
