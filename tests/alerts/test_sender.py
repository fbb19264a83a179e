import socket
import threading

import pytest
from structlog.testing import capture_logs

from alerts.privacy import mask_number
from alerts.sender import (
    INVALID_TO_NUMBER,
    NOT_A_MOBILE,
    OPTED_OUT,
    REGION_NOT_ENABLED,
    ConsoleSender,
    PermanentSendError,
    Sender,
    SendError,
    TransientSendError,
    TwilioSender,
    classify,
    consent_revoked,
    number_invalid,
)
from alerts.signature import SIGNATURE_HEADER, is_valid_signature
from simulator.client import SimulatorClient
from tests.simulator.conftest import ACCOUNT_SID, AUTH_TOKEN, wait_until

VOLUNTEER = "+447700900123"


def twilio_sender(server, config, **overrides) -> TwilioSender:
    arguments = {"from_number": config.phone_number, "api_base": server.url, "timeout_s": 5.0}
    arguments.update(overrides)
    return TwilioSender(config.account_sid, config.auth_token, **arguments)


def send(sender: Sender, to: str = VOLUNTEER, body: str = "NVR call-up", callback: str | None = None):
    return sender.send(to=to, body=body, status_callback=callback, validity_period_s=900)


@pytest.mark.parametrize(
    ("http_status", "code", "transient"),
    [
        (429, 20429, True),
        (400, 20429, True),
        (500, 20500, True),
        (503, None, True),
        (400, INVALID_TO_NUMBER, False),
        (400, NOT_A_MOBILE, False),
        (400, OPTED_OUT, False),
        (400, REGION_NOT_ENABLED, False),
        (401, 20003, False),
        (404, None, False),
    ],
)
def test_classify(http_status, code, transient):
    error = classify("x", http_status=http_status, code=code, retry_after=2.0)
    assert isinstance(error, TransientSendError if transient else PermanentSendError)
    assert error.code == code
    assert error.http_status == http_status


def test_error_helpers_name_what_the_caller_must_mark():
    assert consent_revoked(21610)
    assert not consent_revoked(21211)
    assert number_invalid(21211) and number_invalid(21614)
    assert not number_invalid(21610) and not number_invalid(None) and not number_invalid(21408)


def test_twilio_sender_needs_a_sender_identity():
    with pytest.raises(ValueError):
        TwilioSender(ACCOUNT_SID, AUTH_TOKEN)


def test_send_through_the_simulator(start_simulator):
    server, config = start_simulator()
    result = send(twilio_sender(server, config), body="a" * 200)
    assert result.sid.startswith("SM") and len(result.sid) == 34
    assert result.status == "queued"
    assert result.segments == 2
    [message] = SimulatorClient(server.url).messages(VOLUNTEER)
    assert message["sid"] == result.sid
    assert message["from"] == config.phone_number
    assert message["validity_period"] == 900
    assert message["num_segments"] == 2


def test_send_through_a_messaging_service_is_accepted(start_simulator):
    server, config = start_simulator(messaging_service_sid="MG" + "1" * 32)
    sender = twilio_sender(server, config, from_number=None, messaging_service_sid="MG" + "1" * 32)
    result = send(sender)
    assert result.status == "accepted"
    assert result.segments == 1  # counted by us: Twilio says 0 until it picks a sender
    [message] = SimulatorClient(server.url).messages(VOLUNTEER)
    assert message["messaging_service_sid"] == "MG" + "1" * 32


@pytest.mark.parametrize("code", [21211, 21614, 21610, 21408])
def test_refused_numbers_are_permanent(start_simulator, code):
    server, config = start_simulator(fail_numbers={VOLUNTEER: code})
    with pytest.raises(PermanentSendError) as raised:
        send(twilio_sender(server, config))
    assert raised.value.code == code
    assert raised.value.http_status == 400
    assert SimulatorClient(server.url).messages() == []  # a refused create leaves no message


def test_malformed_number_is_21211(start_simulator):
    server, config = start_simulator()
    with pytest.raises(PermanentSendError) as raised:
        send(twilio_sender(server, config), to="07700 900123")
    assert number_invalid(raised.value.code)


def test_after_stop_twilio_refuses_with_21610_until_start(start_simulator):
    server, config = start_simulator()
    client = SimulatorClient(server.url)
    sender = twilio_sender(server, config)
    client.inbound(VOLUNTEER, "STOP")
    with pytest.raises(PermanentSendError) as raised:
        send(sender)
    assert consent_revoked(raised.value.code)
    client.inbound(VOLUNTEER, "START")
    assert send(sender).status == "queued"


def test_429_is_transient_with_retry_after(start_simulator):
    server, config = start_simulator(fail_numbers={VOLUNTEER: 20429})
    with pytest.raises(TransientSendError) as raised:
        send(twilio_sender(server, config))
    assert raised.value.code == 20429
    assert raised.value.http_status == 429
    assert raised.value.retry_after == 1.0


@pytest.mark.parametrize(("code", "status"), [(20500, 500), (20503, 503)])
def test_5xx_is_transient(start_simulator, code, status):
    server, config = start_simulator(fail_numbers={VOLUNTEER: code})
    with pytest.raises(TransientSendError) as raised:
        send(twilio_sender(server, config))
    assert raised.value.http_status == status
    assert raised.value.retry_after is None


def test_random_transient_failures_are_transient(start_simulator):
    server, config = start_simulator(transient_failure_rate=1.0, seed=7)
    sender = twilio_sender(server, config)
    codes = set()
    for _ in range(12):
        with pytest.raises(TransientSendError) as raised:
            send(sender)
        codes.add(raised.value.code)
    assert codes == {20429, 20503}


def test_wrong_credentials_are_permanent(start_simulator):
    server, config = start_simulator()
    sender = TwilioSender(config.account_sid, "wrong", from_number=config.phone_number, api_base=server.url)
    with pytest.raises(PermanentSendError) as raised:
        send(sender)
    assert (raised.value.http_status, raised.value.code) == (401, 20003)


def test_timeout_is_transient():
    # A listening socket that never answers: the kernel completes the handshake, nobody replies.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        sender = TwilioSender(
            ACCOUNT_SID,
            AUTH_TOKEN,
            from_number="+447700900000",
            api_base=f"http://127.0.0.1:{silent.getsockname()[1]}",
            timeout_s=0.3,
        )
        with pytest.raises(TransientSendError, match="unreachable"):
            send(sender)
    finally:
        silent.close()


def test_connection_refused_is_transient():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    sender = TwilioSender(
        ACCOUNT_SID, AUTH_TOKEN, from_number="+447700900000", api_base=f"http://127.0.0.1:{port}"
    )
    with pytest.raises(TransientSendError) as raised:
        send(sender)
    assert isinstance(raised.value, SendError)


def test_status_callbacks_arrive_signed_in_order(start_simulator, receiver):
    server, config = start_simulator()
    callback = receiver.url + "/webhooks/twilio/status?attempt=1"
    result = send(twilio_sender(server, config), callback=callback)
    received = receiver.wait_for(3)
    assert [r.params["MessageStatus"] for r in received] == ["queued", "sent", "delivered"]
    for request in received:
        assert request.path == "/webhooks/twilio/status?attempt=1"
        assert is_valid_signature(AUTH_TOKEN, callback, request.params, request.headers[SIGNATURE_HEADER])
        assert not is_valid_signature(
            "other-token", callback, request.params, request.headers[SIGNATURE_HEADER]
        )
        assert request.params["MessageSid"] == request.params["SmsSid"] == result.sid
        assert request.params["SmsStatus"] == request.params["MessageStatus"]
        assert request.params["AccountSid"] == ACCOUNT_SID
        assert request.params["From"] == config.phone_number
        assert request.params["To"] == VOLUNTEER
        assert request.params["ApiVersion"] == "2010-04-01"
        assert "ErrorCode" not in request.params
    wait_until(lambda: SimulatorClient(server.url).messages()[0]["status"] == "delivered")


def test_undelivered_callback_carries_the_error_code(start_simulator, receiver):
    server, config = start_simulator(fail_numbers={VOLUNTEER: 30006})
    callback = receiver.url + "/status"
    assert send(twilio_sender(server, config), callback=callback).status == "queued"
    received = receiver.wait_for(3)
    assert [r.params["MessageStatus"] for r in received] == ["queued", "sent", "undelivered"]
    assert received[-1].params["ErrorCode"] == "30006"
    assert is_valid_signature(
        AUTH_TOKEN, callback, received[-1].params, received[-1].headers[SIGNATURE_HEADER]
    )
    wait_until(lambda: SimulatorClient(server.url).messages()[0]["error_code"] == 30006)
    [message] = SimulatorClient(server.url).messages()
    assert [step["status"] for step in message["status_history"]] == ["queued", "sent", "undelivered"]


def test_failed_callback_skips_sent(start_simulator, receiver):
    server, config = start_simulator(fail_numbers={VOLUNTEER: 30008})
    send(twilio_sender(server, config), callback=receiver.url + "/status")
    received = receiver.wait_for(2)
    assert [r.params["MessageStatus"] for r in received] == ["queued", "failed"]
    assert received[-1].params["ErrorCode"] == "30008"


def test_latency_delays_callbacks(start_simulator, receiver):
    server, config = start_simulator(latency_ms=300)
    send(twilio_sender(server, config), callback=receiver.url + "/status")
    assert receiver.requests == []
    assert len(receiver.wait_for(3)) == 3


def test_console_sender_records_and_logs():
    sender = ConsoleSender()
    with capture_logs() as logs:
        result = send(sender, body="hello €")
    assert result.sid.startswith("SM") and len(result.sid) == 34
    int(result.sid[2:], 16)
    assert result.status == "queued"
    assert sender.sent == [
        {
            "sid": result.sid,
            "to": VOLUNTEER,
            "body": "hello €",
            "status_callback": None,
            "validity_period_s": 900,
            "segments": 1,
        }
    ]
    assert logs == [
        {"event": "sms.console", "log_level": "info", "sid": result.sid, "to": "+4477******23", "segments": 1}
    ]


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+447700900123", "+4477******23"), ("+12025550143", "+1202*****43"), ("12345", "*****"), ("", "")],
)
def test_masked_numbers_keep_only_the_country_and_the_last_two_digits(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def test_console_sender_is_thread_safe():
    sender = ConsoleSender()

    def burst() -> None:
        for _ in range(50):
            send(sender)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({record["sid"] for record in sender.sent}) == 400


def test_message_queued_past_its_validity_period_fails_with_30036(start_simulator, receiver):
    server, config = start_simulator(latency_ms=600)
    sender = twilio_sender(server, config)
    sender.send(to=VOLUNTEER, body="stale", status_callback=receiver.url + "/status", validity_period_s=1)
    received = receiver.wait_for(2)
    assert [r.params["MessageStatus"] for r in received] == ["queued", "failed"]
    assert received[-1].params["ErrorCode"] == "30036"
