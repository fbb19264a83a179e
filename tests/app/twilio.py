"""Posting signed Twilio webhooks to the app, as Twilio (or the simulator) would."""

import os
import uuid

from fastapi.testclient import TestClient
from httpx import Response

from alerts.signature import SIGNATURE_HEADER, compute_signature


def signed_post(client: TestClient, path: str, form: dict[str, str], *, token: str | None = None) -> Response:
    """POST a form with a valid X-Twilio-Signature for the configured public URL."""
    url = os.environ["PUBLIC_BASE_URL"] + path
    signature = compute_signature(token or os.environ["TWILIO_AUTH_TOKEN"], url, form)
    return client.post(path, data=form, headers={SIGNATURE_HEADER: signature})


def sms(client: TestClient, from_: str, body: str, *, sid: str | None = None, **extra: str) -> Response:
    """A volunteer's reply arriving at the inbound webhook."""
    form = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
        "From": from_,
        "To": os.environ["TWILIO_FROM_NUMBER"],
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    return signed_post(client, "/webhooks/twilio/sms", form)
