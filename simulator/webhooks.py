"""Posting signed webhooks to the app, the way Twilio calls a customer's server."""

import httpx

from alerts.signature import SIGNATURE_HEADER, compute_signature


class WebhookClient:
    """Form-encoded POSTs carrying X-Twilio-Signature computed with the account's auth token."""

    def __init__(self, auth_token: str, *, timeout_s: float) -> None:
        self._auth_token = auth_token
        # trust_env off: the app is on a known address and no proxy from the environment belongs there.
        self._http = httpx.Client(timeout=timeout_s, trust_env=False)

    def post(self, url: str, params: dict[str, str]) -> httpx.Response:
        """POST params to url, signed over the exact URL (query string included) and the fields."""
        signature = compute_signature(self._auth_token, url, params)
        return self._http.post(url, data=params, headers={SIGNATURE_HEADER: signature})

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()
