"""Running the simulator (or any ASGI app) as a real HTTP server."""

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from simulator.app import create_app
from simulator.config import SimulatorConfig


def serve(config: SimulatorConfig, host: str, port: int) -> None:
    """Serve the simulator in the foreground until interrupted."""
    uvicorn.run(create_app(config), host=host, port=port)


class BackgroundServer:
    """An ASGI app served by uvicorn on a thread, for tests and demos that need it over real HTTP."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        # Binding here, before the thread starts, makes the port known at once even when it is 0.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = host, self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="background-server", daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> "BackgroundServer":
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Shut down gracefully (running the app's lifespan exit) and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout_s)
        self._socket.close()

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
