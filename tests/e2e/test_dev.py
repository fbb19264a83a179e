"""`nvr dev`: the API, a worker and the simulator started together, wired to each other."""

import re
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.e2e.conftest import wait_for
from tests.e2e.processes import Process, nvr


def test_dev_help_says_what_it_starts() -> None:
    result = nvr("dev", "--help", COLUMNS="200")
    assert result.returncode == 0, result.stderr
    assert "Start the API, one worker and the SMS simulator" in result.stdout


def test_dev_starts_a_wired_stack_and_prints_its_addresses(engine: object, tmp_path: Path) -> None:
    api_port, sim_port = free_port(), free_port()
    dev = Process(
        tmp_path / "dev.log",
        "dev",
        "--api-port",
        str(api_port),
        "--simulator-port",
        str(sim_port),
        COLUMNS="200",
    )
    try:
        wait_for(lambda: "Ctrl-C stops all three" in dev.output(), timeout_s=90, every_s=0.5)
        output = dev.output()
        api = f"http://127.0.0.1:{api_port}"
        for address in (f"{api}/console", f"{api}/map", f"{api}/docs", f"http://127.0.0.1:{sim_port}/"):
            assert address in output
        token = re.search(r"^(nvr_\S+)$", output, flags=re.M)
        assert token is not None, output
        incidents = httpx.get(f"{api}/api/v1/incidents", headers={"Authorization": f"Bearer {token[1]}"})
        assert incidents.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{sim_port}/simulator/health").status_code == 200
    finally:
        code = dev.stop()
    assert code == 0, dev.output()
    assert "stopped" in dev.output()
