"""The conversation page: a person answers as any volunteer with the forms it shows."""

import re

import httpx

from alerts.signature import SIGNATURE_HEADER, is_valid_signature
from simulator.client import SimulatorClient
from tests.simulator.conftest import ACCOUNT_SID, AUTH_TOKEN

VOLUNTEER = "+447700900123"


def forms(page: str) -> list[str]:
    return re.findall(r"<form .*?</form>", page, flags=re.S)


def test_each_conversation_has_a_reply_form_and_there_is_one_for_anyone(start_simulator):
    server, config = start_simulator()
    httpx.post(
        f"{server.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": VOLUNTEER, "From": config.phone_number, "Body": "NVR call-up: flooding, Carlisle."},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    page = httpx.get(server.url + "/").text
    anyone, conversation = forms(page)
    assert 'action="/simulator/reply"' in anyone and 'name="from" required' in anyone
    assert f'<input type="hidden" name="from" value="{VOLUNTEER}">' in conversation
    assert 'name="body" required' in conversation
    assert 'http-equiv="refresh"' not in page  # a refresh would wipe an answer being typed


def test_the_form_texts_the_app_as_that_volunteer_and_comes_back_to_the_page(start_simulator, receiver):
    server, _ = start_simulator()
    answer = httpx.post(server.url + "/simulator/reply", data={"from": VOLUNTEER, "body": "YES 12"})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    [request] = receiver.wait_for(1)
    assert request.params["From"] == VOLUNTEER and request.params["Body"] == "YES 12"
    url = receiver.url + "/webhooks/twilio/sms"
    assert is_valid_signature(AUTH_TOKEN, url, request.params, request.headers[SIGNATURE_HEADER])
    [message] = SimulatorClient(server.url).messages(VOLUNTEER)
    assert message["direction"] == "inbound" and message["webhook_status"] == 200
    assert "YES 12" in httpx.get(server.url + "/").text


def test_a_form_from_a_number_that_is_not_one_says_so(start_simulator, receiver):
    server, _ = start_simulator()
    answer = httpx.post(server.url + "/simulator/reply", data={"from": "my phone", "body": "YES"})
    assert answer.status_code == 400 and "not an E.164 phone number" in answer.text
    assert receiver.requests == []


def test_the_page_says_how_the_app_answered_each_text(start_simulator, receiver):
    server, _ = start_simulator()
    receiver.status = 403  # what a simulator with the wrong auth token or base URL gets
    httpx.post(server.url + "/simulator/reply", data={"from": VOLUNTEER, "body": "YES"})
    assert "the app answered 403" in httpx.get(server.url + "/").text
