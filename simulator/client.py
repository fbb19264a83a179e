"""A small client for the simulator's own endpoints, for tests and scripts."""

from types import TracebackType
from typing import Any

import httpx


class SimulatorClient:
    """Talks to a running simulator: plays a volunteer's texts and reads the conversations."""

    def __init__(self, base_url: str, *, timeout_s: float = 20.0) -> None:
        # The timeout is above the simulator's 15 s webhook timeout, so a slow app shows as its answer.
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, trust_env=False)

    def inbound(self, from_: str, body: str, to: str | None = None) -> httpx.Response:
        """Text the app as a volunteer; the response is the app's own answer to the webhook."""
        payload = {"from": from_, "body": body}
        if to is not None:
            payload["to"] = to
        return self._http.post("/simulator/inbound", json=payload)

    def messages(self, number: str | None = None) -> list[dict[str, Any]]:
        """Every message in and out (or one number's), oldest first."""
        params = {"number": number} if number is not None else None
        response = self._http.get("/simulator/messages", params=params)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def reset(self) -> None:
        """Clear the simulator's messages and opt-outs."""
        self._http.delete("/simulator/messages").raise_for_status()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> "SimulatorClient":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
