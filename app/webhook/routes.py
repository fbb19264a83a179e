"""Twilio's webhooks: inbound SMS and delivery receipts.

Each is admitted only with a valid signature over our public URL, a signature never seen before, and
fields of exactly Twilio's shape; a refusal is a 4xx problem+json, recorded without personal data.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from app.deps import SessionDep, SettingsDep
from app.incident.service import policy_from
from app.message.delivery import receive_receipt
from app.settings import Settings
from app.webhook.fields import RefusedWebhook, inbound_sms, receipt
from app.webhook.service import handle_inbound, record_refusal
from app.webhook.signature import (
    BadSignature,
    ReplayedWebhook,
    TwilioWebhook,
    Webhook,
    claim_signature,
    verify,
)

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
T = TypeVar("T")
REFUSALS = (BadSignature, RefusedWebhook, ReplayedWebhook)
REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "bad signature"},
    409: {"description": "signature already used"},
    422: {"description": "fields not shaped as Twilio sends them"},
}


def admit(session: Session, webhook: Webhook, settings: Settings, parse: Callable[..., T]) -> T:
    """The webhook's fields once it is proven genuine and new; a refusal is recorded, then raised."""
    try:
        verify(webhook, auth_token=settings.twilio_auth_token)
        fields = parse(webhook.params, account_sid=settings.twilio_account_sid)
        claim_signature(session, webhook)
    except REFUSALS as refused:
        record_refusal(session, path=webhook.path, refused=refused)
        session.commit()
        raise
    return fields


@router.post("/sms", responses=REFUSED)
def inbound(webhook: TwilioWebhook, session: SessionDep, settings: SettingsDep) -> Response:
    """A volunteer's reply; answers go out as separate SMS, so the TwiML response is empty."""
    sms = admit(session, webhook, settings, inbound_sms)
    handle_inbound(
        session,
        sid=sms.sid,
        from_number=sms.from_number,
        to_number=sms.to_number,
        body=sms.body,
        opt_out_type=sms.opt_out_type,
        policy=policy_from(settings),
    )
    session.commit()  # the 2xx means it is stored
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/status", status_code=204, responses=REFUSED)
def delivery_receipt(webhook: TwilioWebhook, session: SessionDep, settings: SettingsDep) -> Response:
    """A delivery receipt for one of our messages."""
    fields = admit(session, webhook, settings, receipt)
    receive_receipt(
        session,
        sid=fields.sid,
        status=fields.status,
        error_code=fields.error_code,
        policy=policy_from(settings),
    )
    session.commit()
    return Response(status_code=204)
