import base64
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from alerts.signature import SIGNATURE_HEADER, is_valid_signature
from simulator import SimulatorConfig
from simulator.client import SimulatorClient
from tests.simulator.conftest import ACCOUNT_SID, AUTH_TOKEN, wait_until

VOLUNTEER = "+447700900123"


def messages_url(server, account_sid: str = ACCOUNT_SID) -> str:
    return f"{server.url}/2010-04-01/Accounts/{account_sid}/Messages.json"


def post_message(server, data: dict[str, str], *, auth=(ACCOUNT_SID, AUTH_TOKEN)) -> httpx.Response:
    return httpx.post(messages_url(server), data=data, auth=auth)


def test_message_resource_has_twilios_shape(start_simulator):
    server, config = start_simulator()
    response = post_message(
        server,
        {"To": VOLUNTEER, "From": config.phone_number, "Body": "ш" * 100, "StatusCallback": "http://x/cb"},
    )
    assert response.status_code == 201
    resource = response.json()
    sid = resource["sid"]
    assert sid.startswith("SM") and len(sid) == 34
    assert resource["account_sid"] == ACCOUNT_SID
    assert resource["to"] == VOLUNTEER
    assert resource["from"] == config.phone_number
    assert resource["body"] == "ш" * 100
    assert resource["status"] == "queued"
    assert resource["num_segments"] == "2"
    assert resource["direction"] == "outbound-api"
    assert resource["price"] is None and resource["error_code"] is None
    assert resource["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"
    assert parsedate_to_datetime(resource["date_created"]).tzinfo is not None


def test_messaging_service_without_from_is_accepted_with_no_sender_yet(start_simulator):
    server, _ = start_simulator()
    response = post_message(server, {"To": VOLUNTEER, "MessagingServiceSid": "MG" + "2" * 32, "Body": "hi"})
    assert response.status_code == 201
    assert response.json()["status"] == "accepted"
    assert response.json()["from"] is None
    assert response.json()["num_segments"] == "0"


@pytest.mark.parametrize(
    "auth",
    [None, (ACCOUNT_SID, "wrong"), ("AC" + "9" * 32, AUTH_TOKEN), (ACCOUNT_SID, "")],
)
def test_bad_credentials_get_twilios_401(start_simulator, auth):
    server, config = start_simulator()
    response = post_message(server, {"To": VOLUNTEER, "From": config.phone_number, "Body": "x"}, auth=auth)
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_garbage_authorization_header_is_401(start_simulator):
    server, _ = start_simulator()
    response = httpx.post(messages_url(server), data={}, headers={"Authorization": "Basic %%%"})
    assert response.status_code == 401


def test_another_accounts_path_is_404(start_simulator):
    server, config = start_simulator()
    response = httpx.post(
        messages_url(server, "AC" + "9" * 32),
        data={"To": VOLUNTEER, "From": config.phone_number, "Body": "x"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert response.status_code == 404
    assert response.json()["code"] == 20404


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"From": "+447700900000", "Body": "x"}, 21604),
        ({"To": VOLUNTEER, "Body": "x"}, 21603),
        ({"To": VOLUNTEER, "From": "+447700900999", "Body": "x"}, 21606),
        ({"To": VOLUNTEER, "From": "+447700900000"}, 21602),
        ({"To": VOLUNTEER, "From": "+447700900000", "Body": "x" * 1601}, 21617),
        ({"To": "+44123", "From": "+447700900000", "Body": "x"}, 21211),
        ({"To": "447700900123", "From": "+447700900000", "Body": "x"}, 21211),
        ({"To": VOLUNTEER, "From": "+447700900000", "Body": "x", "ValidityPeriod": "0"}, 21624),
        ({"To": VOLUNTEER, "From": "+447700900000", "Body": "x", "ValidityPeriod": "36001"}, 21624),
        ({"To": VOLUNTEER, "From": "+447700900000", "Body": "x", "ValidityPeriod": "soon"}, 21624),
    ],
)
def test_invalid_creates_are_refused_as_twilio_does(start_simulator, data, code):
    server, _ = start_simulator()
    response = post_message(server, data)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["status"] == 400


def test_transient_failures_follow_the_seed(start_simulator):
    def outcomes(seed: int) -> list[int]:
        server, config = start_simulator(transient_failure_rate=0.5, seed=seed)
        data = {"To": VOLUNTEER, "From": config.phone_number, "Body": "x"}
        return [post_message(server, data).status_code for _ in range(30)]

    first, second = outcomes(3), outcomes(3)
    assert first == second
    assert set(first) == {201, 429, 503}


def test_inbound_reaches_the_app_signed_and_returns_its_answer(start_simulator, receiver):
    receiver.status, receiver.body, receiver.content_type = 200, b"<Response></Response>", "text/xml"
    server, config = start_simulator()
    response = SimulatorClient(server.url).inbound(VOLUNTEER, "Yes, 47!")
    assert response.status_code == 200
    assert response.text == "<Response></Response>"
    assert response.headers["content-type"].startswith("text/xml")
    [request] = receiver.wait_for(1)
    url = receiver.url + "/webhooks/twilio/sms"
    assert request.path == "/webhooks/twilio/sms"
    assert is_valid_signature(AUTH_TOKEN, url, request.params, request.headers[SIGNATURE_HEADER])
    sid = response.headers["X-Simulator-Message-Sid"]
    assert request.params == {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": VOLUNTEER,
        "To": config.phone_number,
        "Body": "Yes, 47!",
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "FromCountry": "GB",
        "ToCountry": "GB",
        "ApiVersion": "2010-04-01",
    }
    [message] = SimulatorClient(server.url).messages(VOLUNTEER)
    assert message["direction"] == "inbound"
    assert message["webhook_status"] == 200


@pytest.mark.parametrize(
    ("body", "opt_out_type"),
    [("STOP", "STOP"), ("unsubscribe", "STOP"), ("YES", "START"), ("Start", "START"), ("HELP", "HELP")],
)
def test_inbound_keywords_carry_opt_out_type(start_simulator, receiver, body, opt_out_type):
    server, _ = start_simulator(messaging_service_sid="MG" + "3" * 32)
    SimulatorClient(server.url).inbound(VOLUNTEER, body)
    [request] = receiver.wait_for(1)
    assert request.params["OptOutType"] == opt_out_type
    assert request.params["MessagingServiceSid"] == "MG" + "3" * 32


def test_answers_with_a_reference_carry_no_opt_out_type(start_simulator, receiver):
    server, _ = start_simulator()
    SimulatorClient(server.url).inbound(VOLUNTEER, "YES 47")
    [request] = receiver.wait_for(1)
    assert "OptOutType" not in request.params


def test_inbound_relays_the_apps_refusal(start_simulator, receiver):
    receiver.status, receiver.body, receiver.content_type = (
        403,
        b'{"detail":"bad signature"}',
        "application/json",
    )
    server, _ = start_simulator()
    client = SimulatorClient(server.url)
    response = client.inbound(VOLUNTEER, "NO")
    assert response.status_code == 403
    assert response.json() == {"detail": "bad signature"}
    assert client.messages()[0]["webhook_status"] == 403


def test_inbound_when_the_app_is_down_is_502_and_recorded(start_simulator):
    server, _ = start_simulator(webhook_base_url="http://127.0.0.1:9")
    client = SimulatorClient(server.url)
    response = client.inbound(VOLUNTEER, "YES")
    assert response.status_code == 502
    [message] = client.messages()
    assert message["body"] == "YES" and message["webhook_status"] is None


def test_inbound_from_a_non_e164_number_is_refused(start_simulator, receiver):
    server, _ = start_simulator()
    assert SimulatorClient(server.url).inbound("07700900123", "YES").status_code == 400
    assert receiver.requests == []


def test_callbacks_to_a_dead_app_do_not_hurt_the_simulator(start_simulator):
    server, config = start_simulator(webhook_base_url="http://127.0.0.1:9")
    data = {
        "To": VOLUNTEER,
        "From": config.phone_number,
        "Body": "x",
        "StatusCallback": "http://127.0.0.1:9/s",
    }
    for _ in range(3):
        assert post_message(server, data).status_code == 201
    client = SimulatorClient(server.url)
    wait_until(lambda: all(m["status"] == "delivered" for m in client.messages()))
    assert httpx.get(server.url + "/simulator/health").json() == {"status": "ok"}


def test_conversation_listing_filter_and_reset(start_simulator):
    server, config = start_simulator(webhook_base_url="http://127.0.0.1:9")
    other = "+447700900456"
    for to in (VOLUNTEER, other):
        post_message(server, {"To": to, "From": config.phone_number, "Body": f"to {to}"})
    client = SimulatorClient(server.url)
    client.inbound(VOLUNTEER, "YES")
    assert [m["body"] for m in client.messages(VOLUNTEER)] == [f"to {VOLUNTEER}", "YES"]
    assert [m["direction"] for m in client.messages(VOLUNTEER)] == ["outbound-api", "inbound"]
    assert len(client.messages()) == 3
    client.reset()
    assert client.messages() == []


def test_reset_clears_opt_outs(start_simulator):
    server, config = start_simulator(webhook_base_url="http://127.0.0.1:9")
    client = SimulatorClient(server.url)
    client.inbound(VOLUNTEER, "STOP")
    data = {"To": VOLUNTEER, "From": config.phone_number, "Body": "x"}
    assert post_message(server, data).json()["code"] == 21610
    client.reset()
    assert post_message(server, data).status_code == 201


def test_page_lists_conversations_with_text_escaped(start_simulator):
    server, config = start_simulator(webhook_base_url="http://127.0.0.1:9")
    post_message(
        server, {"To": VOLUNTEER, "From": config.phone_number, "Body": "<script>alert(1)</script> & co"}
    )
    page = httpx.get(server.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page.text
    assert VOLUNTEER in page.text


def test_basic_auth_header_built_by_hand_is_accepted(start_simulator):
    server, config = start_simulator()
    token = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    response = httpx.post(
        messages_url(server),
        data={"To": VOLUNTEER, "From": config.phone_number, "Body": "x"},
        headers={"Authorization": f"Basic {token}"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "overrides",
    [
        {"fail_numbers": {VOLUNTEER: 12345}},
        {"transient_failure_rate": 1.5},
        {"latency_ms": -1},
        {"auth_token": ""},
    ],
)
def test_config_refuses_what_it_cannot_play(overrides):
    settings: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "webhook_base_url": "http://x",
    }
    settings.update(overrides)
    with pytest.raises(ValueError):
        SimulatorConfig(**settings)


def test_no_status_callback_from_before_a_reset_arrives_after_it(start_simulator, receiver):
    # 64 deliveries of three 500 ms steps queue behind the 16 delivery threads; the reset cuts them off.
    server, config = start_simulator(latency_ms=500)
    data = {"To": VOLUNTEER, "From": config.phone_number, "Body": "x", "StatusCallback": receiver.url + "/s"}
    with httpx.Client(auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
        for _ in range(64):
            assert http.post(messages_url(server), data=data).status_code == 201
    receiver.wait_for(1)
    SimulatorClient(server.url).reset()
    with receiver.lock:
        at_reset = len(receiver.requests)
    assert at_reset < 64  # most callbacks were still to come
    time.sleep(1.5)  # three delivery steps: a callback not cut off, queued or under way, arrives in this time
    with receiver.lock:
        assert len(receiver.requests) == at_reset
