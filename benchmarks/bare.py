"""The yardstick for webhooks: a FastAPI endpoint that reads the form, checks the signature, answers."""

import os

from fastapi import FastAPI, Request, Response

from alerts.signature import SIGNATURE_HEADER, is_valid_signature

app = FastAPI()
TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
BASE = os.environ.get("BARE_PUBLIC_BASE_URL", "")


@app.post("/webhooks/twilio/{kind}")
async def webhook(kind: str, request: Request) -> Response:
    """What any signed webhook endpoint must do at least."""
    form = await request.form()
    params = {key: str(value) for key, value in form.multi_items()}
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not is_valid_signature(TOKEN, BASE + request.url.path, params, signature):
        return Response(status_code=403)
    return Response("<Response></Response>", media_type="text/xml")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """Up."""
    return {"status": "ok"}
