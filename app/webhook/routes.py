"""Twilio's webhooks: inbound SMS and delivery receipts."""

from fastapi import APIRouter, Response

from app.deps import SessionDep, SettingsDep
from app.errors import InvalidInput
from app.incident.service import policy_from
from app.message.delivery import receive_receipt
from app.webhook.service import handle_inbound
from app.webhook.signature import TwilioForm

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _field(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise InvalidInput(f"webhook field {name} is missing")
    return value


@router.post("/sms")
def inbound_sms(form: TwilioForm, session: SessionDep, settings: SettingsDep) -> Response:
    """A volunteer's reply; answers go out as separate SMS, so the TwiML response is empty."""
    handle_inbound(
        session,
        sid=_field(form, "MessageSid"),
        from_number=_field(form, "From"),
        to_number=form.get("To", ""),
        body=form.get("Body", ""),
        opt_out_type=form.get("OptOutType"),
        policy=policy_from(settings),
    )
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/status", status_code=204)
def delivery_receipt(form: TwilioForm, session: SessionDep, settings: SettingsDep) -> Response:
    """A delivery receipt for one of our messages."""
    code = form.get("ErrorCode", "").strip()
    receive_receipt(
        session,
        sid=_field(form, "MessageSid"),
        status=_field(form, "MessageStatus").lower(),
        error_code=int(code) if code.isdigit() else None,
        policy=policy_from(settings),
    )
    return Response(status_code=204)
