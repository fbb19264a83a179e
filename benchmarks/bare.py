"""The yardsticks: FastAPI endpoints that do only what any endpoint of their kind must (read the form
and check the signature; read and validate a sign-up), then answer."""

import os

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

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


@app.post("/api/v1/signups")
async def signup(request: Request) -> Response:
    """What any sign-up endpoint must do at least: read the JSON body and validate it (the same schema,
    a real mobile number included), then answer 201."""
    from app.signup.schemas import SignupCreate

    data = SignupCreate.model_validate(await request.json())
    return JSONResponse({"signup": "x", "phone_ending": data.phone[-3:]}, status_code=201)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """Up."""
    return {"status": "ok"}
