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
