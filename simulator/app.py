"""A Twilio-compatible SMS server for development, demos and tests, standing in for api.twilio.com."""

import asyncio
import base64
import binascii
import hmac
import random
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import phonenumbers
import structlog
from fastapi import FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from alerts.replies import twilio_keyword
from alerts.segments import count_segments
from simulator.config import SimulatorConfig
from simulator.delivery import API_VERSION, DeliveryWorker
from simulator.errors import API_ERRORS, DELIVERY_ERRORS, error_body
from simulator.page import REPLY_PATH, conversations_page
from simulator.store import INBOUND, OUTBOUND, MessageStore, SimMessage
from simulator.webhooks import WebhookClient

log = structlog.get_logger(__name__)

INBOUND_PATH = "/webhooks/twilio/sms"
MAX_BODY_CHARS = 1600  # Twilio refuses longer bodies with 21617
MAX_VALIDITY_S = 36000  # and ValidityPeriods outside 1..10 hours with 21624
SID_HEADER = "X-Simulator-Message-Sid"


class InboundSms(BaseModel):
    """A text a volunteer sends to our number."""

    from_: str = Field(alias="from")
    body: str
    to: str | None = None


def create_app(config: SimulatorConfig) -> FastAPI:
    """Build the simulator: Twilio's Messages API, signed webhooks, and a page of conversations."""
    store = MessageStore()
    webhooks = WebhookClient(config.auth_token, timeout_s=config.http_timeout_s)
    delivery = DeliveryWorker(
        account_sid=config.account_sid, store=store, webhooks=webhooks, latency_ms=config.latency_ms
    )
    chaos = _Chaos(config)
    inbound_url = config.webhook_base_url.rstrip("/") + INBOUND_PATH

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        delivery.shutdown()
        webhooks.close()

    app = FastAPI(title="NVR SMS simulator", lifespan=lifespan)

    @app.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
    async def create_message(account_sid: str, request: Request) -> JSONResponse:
        """Twilio's Message create: same auth, form fields, errors and resource JSON."""
        if not _authorised(request.headers.get("Authorization"), config):
            return _error(20003)
        if account_sid != config.account_sid:
            return _error(20404)
        transient = chaos.transient_failure()
        if transient is not None:
            return _error(transient)
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        refusal = _refusal(fields, config, store)
        if refusal is not None:
            return _error(refusal)

        to, body = fields["To"], fields["Body"]
        from_ = fields.get("From") or None
        service_sid = fields.get("MessagingServiceSid") or None
        # Through a Messaging Service without From, Twilio answers "accepted" before picking a sender.
        via_service = service_sid is not None and from_ is None
        message = SimMessage(
            sid=_new_sid(),
            direction=OUTBOUND,
            from_=from_ or config.phone_number,
            to=to,
            body=body,
            status="accepted" if via_service else "queued",
            num_segments=count_segments(body).segments,
            messaging_service_sid=service_sid,
            status_callback=fields.get("StatusCallback") or None,
            validity_period=int(fields["ValidityPeriod"]) if fields.get("ValidityPeriod") else None,
        )
        # The answer is built before delivery starts, which may move the status on at once.
        resource = _message_resource(message, account_sid=config.account_sid, via_service=via_service)
        store.add(message)
        failure = config.fail_numbers.get(to)
        delivery.start(message, failure if failure in DELIVERY_ERRORS else None)
        if config.response_delay_ms:  # accepted, but the caller does not know yet
            await asyncio.sleep(config.response_delay_ms / 1000)
        return JSONResponse(resource, status_code=201)

    @app.post("/simulator/inbound")
    def inbound(sms: InboundSms) -> Response:
        """A volunteer texts us: forward it to the app as Twilio's signed webhook; relay its answer."""
        if not _possible_number(sms.from_):
            return JSONResponse({"detail": f"not an E.164 phone number: {sms.from_}"}, status_code=400)
        # A reply goes to the number that last texted them, as on a phone answering a conversation.
        to = sms.to or _last_sender(store, sms.from_) or config.phone_number
        segments = count_segments(sms.body).segments
        message = SimMessage(
            sid=_new_sid(),
            direction=INBOUND,
            from_=sms.from_,
            to=to,
            body=sms.body,
            status="received",
            num_segments=segments,
            messaging_service_sid=config.messaging_service_sid,
        )
        store.add(message)
        params = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "SmsMessageSid": message.sid,
            "AccountSid": config.account_sid,
            "From": sms.from_,
            "To": to,
            "Body": sms.body,
            "NumMedia": "0",
            "NumSegments": str(segments),
            "SmsStatus": "received",
            "FromCountry": _country(sms.from_),
            "ToCountry": _country(to),
            "ApiVersion": API_VERSION,
        }
        if config.messaging_service_sid:
            params["MessagingServiceSid"] = config.messaging_service_sid
        keyword = twilio_keyword(sms.body)
        if keyword is not None:
            # Advanced Opt-Out tells the app which keyword Twilio acted on; Twilio also blocks or
            # unblocks the number itself, which later sends see as 21610.
            params["OptOutType"] = keyword
            if keyword in ("STOP", "START"):
                store.set_opted_out(sms.from_, keyword == "STOP")
        try:
            answer = webhooks.post(inbound_url, params)
        except httpx.HTTPError as error:
            log.warning("simulator.inbound_webhook_failed", sid=message.sid, error=str(error))
            return JSONResponse(
                {"detail": f"the app at {inbound_url} did not answer: {error}"},
                status_code=502,
                headers={SID_HEADER: message.sid},
            )
        store.set_webhook_status(message.sid, answer.status_code)
        return Response(
            content=answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
            headers={SID_HEADER: message.sid},
        )

    @app.post(REPLY_PATH, include_in_schema=False)
    def reply(
        from_: Annotated[str, Form(alias="from")], body: Annotated[str, Form(max_length=MAX_BODY_CHARS)]
    ) -> Response:
        """The page's form: a person texts as a volunteer, then sees the conversation again (303)."""
        answer = inbound(InboundSms.model_validate({"from": from_.strip(), "body": body}))
        if answer.status_code == 400:  # not a phone number: say so rather than lose the text silently
            return answer
        return RedirectResponse("/", status_code=303)

    @app.get("/simulator/messages")
    def list_messages(number: str | None = None) -> list[dict[str, Any]]:
        """Every message in and out, oldest first; number filters one conversation."""
        return [message.to_json() for message in store.messages(number)]

    @app.delete("/simulator/messages", status_code=204)
    def clear_messages() -> Response:
        """Forget all messages and opt-outs, between tests or demo runs; no older callback follows."""
        delivery.forget_all(wait_s=config.http_timeout_s)
        store.clear()
        return Response(status_code=204)

    @app.get("/simulator/health")
    def health() -> dict[str, str]:
        """Liveness for scripts and compose healthchecks."""
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        """The conversations, as a person watching a demo wants to see them."""
        return conversations_page(store.messages(), phone_number=config.phone_number)

    return app


class _Chaos:
    """Seeded dice for transient failures, shared by concurrent requests.

    The rate is read from the config on every request, so a running simulator can be made flaky.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self._random = random.Random(config.seed)
        self._config = config
        self._lock = threading.Lock()

    def transient_failure(self) -> int | None:
        """20429 or 20503 for the configured share of requests, else None."""
        rate = self._config.transient_failure_rate
        if rate == 0:
            return None
        with self._lock:
            roll, pick = self._random.random(), self._random.random()
        if roll >= rate:
            return None
        return 20429 if pick < 0.5 else 20503


def _refusal(fields: dict[str, str], config: SimulatorConfig, store: MessageStore) -> int | None:
    """The Twilio error code that refuses this Message create, in Twilio's order of checks."""
    to = fields.get("To", "")
    body = fields.get("Body", "")
    from_ = fields.get("From")
    if not to:
        return 21604
    if not from_ and not fields.get("MessagingServiceSid"):
        return 21603
    if from_ and from_ not in config.numbers:
        return 21606
    if not body:
        return 21602
    if len(body) > MAX_BODY_CHARS:
        return 21617
    validity = fields.get("ValidityPeriod")
    if validity and not (validity.isdigit() and 1 <= int(validity) <= MAX_VALIDITY_S):
        return 21624
    if not _possible_number(to):
        return 21211
    configured = config.fail_numbers.get(to)
    if configured in API_ERRORS:
        return configured
    if store.is_opted_out(to):
        return 21610
    return None


def _error(code: int) -> JSONResponse:
    """Twilio's error answer; a 429 also says when to come back."""
    body = error_body(code)
    headers = {"Retry-After": "1"} if body["status"] == 429 else None
    return JSONResponse(body, status_code=body["status"], headers=headers)


def _authorised(header: str | None, config: SimulatorConfig) -> bool:
    """HTTP basic auth with the account SID and auth token, compared in constant time."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(username, config.account_sid) & hmac.compare_digest(
        password, config.auth_token
    )


def _message_resource(message: SimMessage, *, account_sid: str, via_service: bool) -> dict[str, Any]:
    """Twilio's Message resource JSON, which twilio-python parses into a MessageInstance."""
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{message.sid}"
    created = message.to_json()["date_created"]
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": created,
        "date_sent": None,
        "date_updated": created,
        "direction": message.direction,
        "error_code": None,
        "error_message": None,
        # A Messaging Service picks the sender and counts segments after accepting the message.
        "from": None if via_service else message.from_,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": "0",
        "num_segments": "0" if via_service else str(message.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": message.to,
        "uri": f"{uri}.json",
    }


def _new_sid() -> str:
    """A message SID shaped like Twilio's: SM and 32 hex digits."""
    return "SM" + uuid.uuid4().hex


def _possible_number(number: str) -> bool:
    """E.164 and of a possible length; Ofcom's drama numbers are not 'valid' but must pass."""
    if not number.startswith("+"):
        return False
    try:
        return bool(phonenumbers.is_possible_number(phonenumbers.parse(number, None)))
    except phonenumbers.NumberParseException:
        return False


def _country(number: str) -> str:
    """ISO country of a number's calling code, as Twilio's FromCountry/ToCountry."""
    # By calling code rather than by number: Ofcom's drama numbers are not "valid" numbers.
    try:
        country_code = phonenumbers.parse(number, None).country_code
    except phonenumbers.NumberParseException:
        return ""
    region = str(phonenumbers.region_code_for_country_code(country_code or 0))
    return "" if region == phonenumbers.UNKNOWN_REGION else region


def _last_sender(store: MessageStore, number: str) -> str | None:
    """Which of our numbers last texted this person (None when none has, or a service has not picked)."""
    for message in reversed(store.messages(number)):
        if message.direction == OUTBOUND and message.to == number:
            return message.from_
    return None
