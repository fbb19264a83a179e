"""Twilio webhook signatures (X-Twilio-Signature), computed and checked with twilio's own validator."""

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Sign a webhook as Twilio does: HMAC-SHA1 over the exact URL and the sorted form fields."""
    if not auth_token:
        raise ValueError("cannot sign with an empty auth token")
    return str(RequestValidator(auth_token).compute_signature(url, params))


def is_valid_signature(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Whether a webhook really came from Twilio; url is the public URL with its query string."""
    # An empty token would make every signature computable by anyone: refuse rather than accept.
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))
