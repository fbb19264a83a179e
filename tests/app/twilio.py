"""Posting signed Twilio webhooks to the app, as Twilio (or the simulator) would."""

import os
import uuid

from fastapi.testclient import TestClient
from httpx import Response

from alerts.signature import SIGNATURE_HEADER, compute_signature

INBOUND = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"


def new_sid(prefix: str = "SM") -> str:
    """A SID shaped like Twilio's: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def sign(path: str, form: dict[str, str], *, token: str | None = None, base: str | None = None) -> str:
    """X-Twilio-Signature for a form posted to path under our public base URL (or another base)."""
    url = (base or os.environ["PUBLIC_BASE_URL"]) + path
    return compute_signature(token or os.environ["TWILIO_AUTH_TOKEN"], url, form)


def post_with(client: TestClient, path: str, form: dict[str, str], signature: str) -> Response:
    """POST a form with a given signature (a replayed or forged one, say)."""
    return client.post(path, data=form, headers={SIGNATURE_HEADER: signature})


def signed_post(client: TestClient, path: str, form: dict[str, str], *, token: str | None = None) -> Response:
    """POST a form with a valid X-Twilio-Signature for the configured public URL."""
    return post_with(client, path, form, sign(path, form, token=token))


def sms_form(from_: str, body: str, *, sid: str | None = None, **extra: str) -> dict[str, str]:
    """The fields Twilio posts for an inbound SMS."""
    return {
        "MessageSid": sid or new_sid(),
        "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
        "From": from_,
        "To": os.environ["TWILIO_FROM_NUMBER"],
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def receipt_form(sid: str, status: str, code: str = "") -> dict[str, str]:
    """The fields Twilio posts in a status callback."""
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
        "From": os.environ["TWILIO_FROM_NUMBER"],
        "To": "+447911000001",
        "ApiVersion": "2010-04-01",
    }
    if code:
        form["ErrorCode"] = code
    return form


def sms(client: TestClient, from_: str, body: str, *, sid: str | None = None, **extra: str) -> Response:
    """A volunteer's reply arriving at the inbound webhook."""
    return signed_post(client, INBOUND, sms_form(from_, body, sid=sid, **extra))
