"""The sending edge: one Sender interface, Twilio behind it, a console fake for development."""

import threading
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import requests
import structlog
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from alerts.privacy import mask_number
from alerts.segments import count_segments

log = structlog.get_logger(__name__)

TWILIO_API_BASE = "https://api.twilio.com"
# The longest one provider request may take (connect, then each read); a send that hangs longer fails
# as transient and is retried. A live worker's lease heartbeat covers the wait (workers/lease.py).
SEND_TIMEOUT_S = 10.0

# Twilio error codes the caller acts on.
TOO_MANY_REQUESTS = 20429
INVALID_TO_NUMBER = 21211
REGION_NOT_ENABLED = 21408  # our account may not send to that country: fix the account, not the number
OPTED_OUT = 21610  # the recipient replied STOP: Twilio refuses until they opt back in
NOT_A_MOBILE = 21614


@dataclass(frozen=True)
class SendResult:
    """What the provider accepted: its message SID (to match status callbacks) and our segment count."""

    sid: str
    status: str
    segments: int
    from_number: str = ""  # the sender it leaves from, when known (a Messaging Service picks later)


class SendError(Exception):
    """A message was not accepted by the provider."""

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class TransientSendError(SendError):
    """Not accepted this time; the same request may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Never going to be accepted as it is: do not retry."""


def consent_revoked(code: int | None) -> bool:
    """Whether the error means the volunteer opted out, so we must stop messaging them."""
    return code == OPTED_OUT


def number_invalid(code: int | None) -> bool:
    """Whether the error means the number cannot receive SMS, so it needs correcting."""
    return code in (INVALID_TO_NUMBER, NOT_A_MOBILE)


def classify(
    message: str, *, http_status: int | None, code: int | None, retry_after: float | None = None
) -> SendError:
    """Decide whether a failed send is worth retrying."""
    if http_status == 429 or code == TOO_MANY_REQUESTS or (http_status is not None and http_status >= 500):
        return TransientSendError(message, code=code, http_status=http_status, retry_after=retry_after)
    return PermanentSendError(message, code=code, http_status=http_status)


class Sender(Protocol):
    """Anything that can send one SMS."""

    def send(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None,
        validity_period_s: int | None,
        from_number: str | None = None,
    ) -> SendResult:
        """Send one SMS (from `from_number`, one of our senders, when given; else the default
        sender); raises TransientSendError or PermanentSendError when it is not accepted."""
        ...


class _ApiHttpClient(TwilioHttpClient):
    """twilio's HTTP client, pointed at another API base (the simulator) and remembering Retry-After."""

    def __init__(self, *, api_base: str | None, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s)
        self._api_base = api_base.rstrip("/") if api_base else None
        # Proxies and CA bundles come from our callers, never from the environment.
        if self.session is not None:
            self.session.trust_env = False
        # twilio raises its exception from the response body only; Retry-After lives in the headers.
        self._last = threading.local()

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request to the configured API base instead of api.twilio.com."""
        if self._api_base and url.startswith(TWILIO_API_BASE):
            url = self._api_base + url[len(TWILIO_API_BASE) :]
        self._last.retry_after = None
        response = super().request(method, url, params, data, headers, auth, timeout, allow_redirects)
        self._last.retry_after = _retry_after(response.headers)
        return response

    def last_retry_after(self) -> float | None:
        """Retry-After of this thread's last response, in seconds."""
        value: float | None = getattr(self._last, "retry_after", None)
        return value


class TwilioSender:
    """Sends through Twilio's REST API with the official client (or through the simulator)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base: str | None = None,
        timeout_s: float = SEND_TIMEOUT_S,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("TwilioSender needs a from_number or a messaging_service_sid")
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._http = _ApiHttpClient(api_base=api_base, timeout_s=timeout_s)
        # twilio falls back to os.environ for the edge and region when this mapping is empty, so it
        # gets explicit empty values: the API host is ours to choose.
        self._client = Client(
            account_sid,
            auth_token,
            http_client=self._http,
            environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
        )

    def send(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None,
        validity_period_s: int | None,
        from_number: str | None = None,
    ) -> SendResult:
        """Create one Message resource; raises classified errors when Twilio does not accept it."""
        options: dict[str, Any] = {}
        if from_number or self._from_number:
            options["from_"] = from_number or self._from_number
        if self._messaging_service_sid:
            options["messaging_service_sid"] = self._messaging_service_sid
        if status_callback:
            options["status_callback"] = status_callback
        if validity_period_s is not None:
            options["validity_period"] = validity_period_s
        try:
            message = self._client.messages.create(to=to, body=body, **options)
        except TwilioRestException as error:
            raise classify(
                error.msg,
                http_status=error.status,
                code=error.code,
                retry_after=self._http.last_retry_after(),
            ) from error
        except TwilioServiceException as error:
            raise classify(
                error.detail or error.title,
                http_status=error.status,
                code=error.code,
                retry_after=self._http.last_retry_after(),
            ) from error
        except (requests.Timeout, requests.ConnectionError) as error:
            raise TransientSendError(f"Twilio API unreachable: {error}") from error
        except requests.RequestException as error:
            # Invalid URLs and the like are configuration mistakes; other transport errors may pass.
            if isinstance(error, ValueError):
                raise PermanentSendError(f"Twilio request could not be made: {error}") from error
            raise TransientSendError(f"Twilio request failed: {error}") from error
        # Our own count: Twilio reports 0 segments for Messaging Service messages until a sender is picked.
        segments = count_segments(body).segments
        sent_from = str(message.from_) if message.from_ else ""  # none yet when a service picks later
        return SendResult(
            sid=str(message.sid), status=str(message.status), segments=segments, from_number=sent_from
        )


class ConsoleSender:
    """Development sender: keeps each message in memory instead of sending it, and logs that it did."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[dict[str, Any]] = []

    def send(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None,
        validity_period_s: int | None,
        from_number: str | None = None,
    ) -> SendResult:
        """Record the message and log its SID and masked number (never the body); always accepted."""
        segments = count_segments(body).segments
        result = SendResult(
            sid="SM" + uuid.uuid4().hex, status="queued", segments=segments, from_number=from_number or ""
        )
        record = {
            "sid": result.sid,
            "to": to,
            "body": body,
            "status_callback": status_callback,
            "validity_period_s": validity_period_s,
            "segments": result.segments,
        }
        with self._lock:
            self._sent.append(record)
        log.info("sms.console", sid=result.sid, to=mask_number(to), segments=result.segments)
        return result

    @property
    def sent(self) -> list[dict[str, Any]]:
        """A copy of every message sent so far, oldest first."""
        with self._lock:
            return [dict(record) for record in self._sent]


def _retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After header given in seconds; dates and junk count as absent."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None
