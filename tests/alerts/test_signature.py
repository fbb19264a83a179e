import pytest

from alerts.signature import compute_signature, is_valid_signature

TOKEN = "12345"
URL = "https://nvr.example.org/webhooks/twilio/sms?source=simulator"
PARAMS = {"From": "+447700900123", "Body": "YES 47", "MessageSid": "SM" + "a" * 32}


def test_round_trip():
    signature = compute_signature(TOKEN, URL, PARAMS)
    assert is_valid_signature(TOKEN, URL, PARAMS, signature)


def test_known_vector_from_twilios_own_test_suite():
    # Computed elsewhere, so it catches a signer that is consistently wrong with itself.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    assert compute_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_empty_token_never_validates():
    signature = compute_signature(TOKEN, URL, PARAMS)
    assert not is_valid_signature("", URL, PARAMS, signature)
    assert not is_valid_signature("", URL, PARAMS, "")


def test_empty_signature_is_invalid():
    assert not is_valid_signature(TOKEN, URL, PARAMS, "")


def test_tampered_param_is_invalid():
    signature = compute_signature(TOKEN, URL, PARAMS)
    assert not is_valid_signature(TOKEN, URL, {**PARAMS, "Body": "NO 47"}, signature)
    assert not is_valid_signature(TOKEN, URL, {**PARAMS, "Extra": "1"}, signature)


def test_other_url_or_token_is_invalid():
    signature = compute_signature(TOKEN, URL, PARAMS)
    assert not is_valid_signature(TOKEN, URL.replace("simulator", "other"), PARAMS, signature)
    assert not is_valid_signature(TOKEN, "https://nvr.example.org/webhooks/twilio/sms", PARAMS, signature)
    assert not is_valid_signature("54321", URL, PARAMS, signature)


def test_signing_with_an_empty_token_is_refused():
    with pytest.raises(ValueError):
        compute_signature("", URL, PARAMS)


def test_a_signature_for_the_url_without_its_port_is_refused_over_http():
    from twilio.request_validator import RequestValidator

    url = "http://127.0.0.1:8000/webhooks/twilio/sms"
    portless = compute_signature(TOKEN, "http://127.0.0.1/webhooks/twilio/sms", PARAMS)
    assert RequestValidator(TOKEN).validate(url, PARAMS, portless)  # twilio's validator takes it
    assert not is_valid_signature(TOKEN, url, PARAMS, portless)  # we do not: another server's URL


def test_the_default_port_may_be_spelled_or_not():
    for signed, received in [
        ("https://nvr.example.org/a", "https://nvr.example.org:443/a"),
        ("https://nvr.example.org:443/a", "https://nvr.example.org/a"),
        ("http://nvr.example.org:80/a", "http://nvr.example.org/a"),
    ]:
        assert is_valid_signature(TOKEN, received, PARAMS, compute_signature(TOKEN, signed, PARAMS))
    wrong_default = compute_signature(TOKEN, "https://nvr.example.org:80/a", PARAMS)
    assert not is_valid_signature(TOKEN, "https://nvr.example.org/a", PARAMS, wrong_default)


def test_https_on_another_port_also_takes_the_portless_form_twilio_documents():
    url = "https://nvr.example.org:8443/a"
    assert is_valid_signature(TOKEN, url, PARAMS, compute_signature(TOKEN, url, PARAMS))
    portless = compute_signature(TOKEN, "https://nvr.example.org/a", PARAMS)
    assert is_valid_signature(TOKEN, url, PARAMS, portless)
    other_port = compute_signature(TOKEN, "https://nvr.example.org:9443/a", PARAMS)
    assert not is_valid_signature(TOKEN, url, PARAMS, other_port)
