"""Twilio webhook signatures (X-Twilio-Signature): HMAC-SHA1 over the URL and the sorted form fields.

Which URLs a signature may be for is decided here, not left to twilio's RequestValidator: its
`validate` also accepts a signature computed for the URL with its port removed, whatever the port, so a
webhook signed for `http://host/...` (another server under the same account) would pass at
`http://host:8000/...`. We accept the URL exactly as configured and, only where it names no port or
the scheme's default one, the same URL spelled the other way (`https://h/` is `https://h:443/`); for
HTTPS on another port also the form without the port, which Twilio documents it signs.
"""

import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_PORTS = {"http": 80, "https": 443}


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Sign a webhook as Twilio does: HMAC-SHA1 over the exact URL and the sorted form fields."""
    if not auth_token:
        raise ValueError("cannot sign with an empty auth token")
    return str(RequestValidator(auth_token).compute_signature(url, params))


def signed_urls(url: str) -> set[str]:
    """The spellings of url a genuine Twilio signature may have been computed over."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port
    default = DEFAULT_PORTS.get(parts.scheme)
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = userinfo + "@" if userinfo else ""
    forms = {url}
    if port is None or port == default:
        forms.add(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
        forms.add(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
    elif parts.scheme == "https":
        forms.add(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return forms


def is_valid_signature(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Whether a webhook really came from Twilio; url is the public URL with its query string."""
    # An empty token would make every signature computable by anyone: refuse rather than accept.
    if not auth_token or not signature:
        return False
    return any(
        hmac.compare_digest(compute_signature(auth_token, form, params).encode(), signature.encode())
        for form in sorted(signed_urls(url))
    )
