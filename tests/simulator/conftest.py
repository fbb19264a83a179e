"""Fixtures for the SMS simulator: a live simulator and a live webhook receiver standing in for nvr.

The alerts library's sender tests use them too (tests/alerts/conftest.py imports them).
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from simulator import BackgroundServer, SimulatorConfig, create_app

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "simulator-auth-token"


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    params: dict[str, str]


@dataclass
class Receiver:
    """A tiny HTTP server standing in for the nvr app: records every POST, answers as told."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    body: bytes = b"<Response/>"
    content_type: str = "text/xml"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Received]:
        """Block until count requests arrived; fails the test if they do not."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        with self.lock:
            raise AssertionError(f"expected {count} requests, got {len(self.requests)}: {self.requests}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The receiving 'app' on a free local port."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), params))
            self.send_response(state.status)
            self.send_header("Content-Type", state.content_type)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests assert on what arrived."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def start_simulator(receiver: Receiver) -> Iterator[Callable[..., tuple[BackgroundServer, SimulatorConfig]]]:
    """Start simulators (webhooks go to the receiver unless overridden); all are stopped afterwards."""
    running: list[BackgroundServer] = []

    def start(**overrides: object) -> tuple[BackgroundServer, SimulatorConfig]:
        settings: dict[str, Any] = {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "webhook_base_url": receiver.url,
        }
        settings.update(overrides)
        config = SimulatorConfig(**settings)
        server = BackgroundServer(create_app(config)).start()
        running.append(server)
        return server, config

    yield start
    for server in running:
        server.stop()


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll until predicate holds; fails the test on timeout."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
