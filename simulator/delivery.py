"""Plays out each accepted message's delivery and reports every step by status callback."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import structlog

from simulator.errors import DELIVERY_ERRORS, VALIDITY_EXPIRED
from simulator.store import MessageStore, SimMessage
from simulator.webhooks import WebhookClient

log = structlog.get_logger(__name__)

API_VERSION = "2010-04-01"


class DeliveryWorker:
    """Moves messages from queued to delivered (or undelivered/failed) on a thread pool."""

    def __init__(
        self, *, account_sid: str, store: MessageStore, webhooks: WebhookClient, latency_ms: int
    ) -> None:
        self._account_sid = account_sid
        self._store = store
        self._webhooks = webhooks
        self._latency_s = latency_ms / 1000
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="simulator-delivery")
        self._stopping = False
        # A reset starts a new generation: deliveries begun before it never call the app again.
        self._generation = 0
        self._posting = 0
        self._changed = threading.Condition()

    def start(self, message: SimMessage, failure_code: int | None) -> None:
        """Begin delivering an accepted message; failure_code plays a 3000x delivery error."""
        self._executor.submit(self._deliver, message, failure_code, time.monotonic(), self._generation)

    def forget_all(self, *, wait_s: float) -> None:
        """Drop every delivery begun so far and wait (up to wait_s) for callbacks already on the wire.

        Without this a reset between tests leaves a backlog of status callbacks reaching the app
        during the next test, which then sees receipts and queued jobs it never caused.
        """
        with self._changed:
            self._generation += 1
            self._changed.wait_for(lambda: self._posting == 0, timeout=wait_s)

    def shutdown(self) -> None:
        """Stop taking work and drop what has not started; deliveries under way stop at their next step."""
        self._stopping = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _deliver(
        self, message: SimMessage, failure_code: int | None, accepted_at: float, generation: int
    ) -> None:
        """Walk the message through its statuses, one callback each, in order."""
        try:
            steps = self._steps(message.status, failure_code)
            self._pause()
            if not self._notify(message, generation):  # the status it was created with
                return
            for status in steps:
                self._pause()
                error_code = failure_code if status in ("undelivered", "failed") else None
                expired = message.validity_period is not None and (
                    time.monotonic() - accepted_at > message.validity_period
                )
                if status == "sent" and expired:
                    # Latency stands for time in Twilio's queue: past ValidityPeriod it is dropped.
                    status, error_code = "failed", VALIDITY_EXPIRED
                updated = self._store.set_status(message.sid, status, error_code)
                if updated is None:
                    return  # state was cleared: this message no longer exists
                if not self._notify(updated, generation) or status == "failed":
                    return
        except Exception:
            # A worker error must never take the server down; it is logged with its traceback.
            log.exception("simulator.delivery_crashed", sid=message.sid)

    def _steps(self, initial: str, failure_code: int | None) -> list[str]:
        """Statuses after the initial one, as Twilio reports them."""
        steps = ["queued"] if initial == "accepted" else []
        if failure_code is None:
            return [*steps, "sent", "delivered"]
        final_status, _ = DELIVERY_ERRORS[failure_code]
        # A failed message never left Twilio; an undelivered one was sent and lost at the carrier.
        return [*steps, "failed"] if final_status == "failed" else [*steps, "sent", "undelivered"]

    def _pause(self) -> None:
        if self._latency_s:
            time.sleep(self._latency_s)

    def _notify(self, message: SimMessage, generation: int) -> bool:
        """POST one status callback unless the delivery was forgotten; False once it was."""
        with self._changed:
            if self._stopping or generation != self._generation:
                return False
            self._posting += 1
        try:
            self._post(message)
        finally:
            with self._changed:
                self._posting -= 1
                self._changed.notify_all()
        return True

    def _post(self, message: SimMessage) -> None:
        """POST one status callback; an app that is down or failing is logged, never raised."""
        if not message.status_callback:
            return
        params = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": message.status,
            "SmsStatus": message.status,
            "AccountSid": self._account_sid,
            "From": message.from_,
            "To": message.to,
            "ApiVersion": API_VERSION,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if message.error_code is not None:
            params["ErrorCode"] = str(message.error_code)
        try:
            response = self._webhooks.post(message.status_callback, params)
        except httpx.HTTPError as error:
            log.warning(
                "simulator.status_callback_failed", sid=message.sid, status=message.status, error=str(error)
            )
            return
        if response.status_code >= 400:
            log.warning(
                "simulator.status_callback_rejected",
                sid=message.sid,
                status=message.status,
                http_status=response.status_code,
            )
