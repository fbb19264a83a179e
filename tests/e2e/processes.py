"""Real `nvr` processes for tests that read what an operator would see: exit codes and stderr."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def nvr(*args: str, timeout_s: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one `nvr` command to completion and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


class Process:
    """A long-running `nvr` command whose stderr goes to a file the test reads afterwards."""

    def __init__(self, log: Path, *args: str, **env: str) -> None:
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "cli.main", *args],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        """Everything the process has written so far."""
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM the process group and wait; its exit code."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        return self.popen.returncode


class Api(Process):
    """`nvr api` on a free port, ready once it answers /healthz (whatever the answer)."""

    def __init__(self, log: Path, **env: str) -> None:
        self.port = free_port()
        super().__init__(log, "api", "--port", str(self.port), **env)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60  # a loaded machine starts Python slowly
        while True:
            try:
                httpx.get(self.url + "/healthz", timeout=5)
                return
            except httpx.TransportError:
                if self.popen.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nvr api did not start:\n{self.output()}") from None
                time.sleep(0.1)
