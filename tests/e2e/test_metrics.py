"""/metrics as an operator scrapes it: the worker's processes (sender and reconciler) add theirs up in
PROMETHEUS_MULTIPROC_DIR and serve the sum on --metrics-port; the API serves its own and the reserve's
gauges. Followed through a real call-up: sent, delivered, answered, filled."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from simulator.client import SimulatorClient
from tests.app.reserve import add_volunteer, incident_body
from tests.conftest import API_PORT, free_port
from tests.e2e.conftest import start_worker, stop_worker, wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
INBOUND = "/webhooks/twilio/sms"


def scrape(url: str) -> Samples:
    """Every sample of one scrape, by name and labels."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def both(api: Samples, worker: Samples, name: str) -> float:
    """A count wherever it happened: in the API process or in the workers."""
    return value(api, name) + value(worker, name)


def test_the_workers_and_the_api_count_a_call_up_from_sent_to_filled(
    live: Session, api: httpx.Client, simulator: SimulatorClient, tmp_path: Path
) -> None:
    port = free_port()
    worker_url, api_url = f"http://127.0.0.1:{port}/metrics", f"http://127.0.0.1:{API_PORT}/metrics"
    ada = add_volunteer(live, km=1)
    bob = add_volunteer(live, km=2)
    live.commit()
    worker: subprocess.Popen[bytes] = start_worker(
        args=("--metrics-port", str(port)), PROMETHEUS_MULTIPROC_DIR=str(tmp_path)
    )
    try:
        api_before = scrape(api_url)
        assert value(scrape(worker_url), "nvr_messages_sent_total", kind="callup") == 0
        response = api.post("/api/v1/incidents", json=incident_body())
        assert response.status_code == 201, response.text
        incident_id = response.json()["id"]

        def sent() -> Samples | None:
            samples = scrape(worker_url)
            return samples if value(samples, "nvr_messages_sent_total", kind="callup") == 2 else None

        wait_for(sent)
        wait_for(lambda: value(scrape(api_url), "nvr_messages_waiting") == 0)
        # The simulator's receipts come back through the webhook and are applied by someone.
        wait_for(lambda: both(scrape(api_url), scrape(worker_url), "nvr_receipt_lag_seconds_count") >= 2)
        assert simulator.inbound(ada.phone or "", "Y").status_code == 200

        def filled() -> Any:
            samples = scrape(api_url)
            return samples if value(samples, "nvr_needs", state="filled") == 1 else None

        api_after = wait_for(filled)
        assert value(api_after, "nvr_needs", state="open") == 0
        assert value(api_after, "nvr_needs", state="exhausted") == 0
        fills = both(api_after, scrape(worker_url), "nvr_need_fill_seconds_count")
        assert fills - value(api_before, "nvr_need_fill_seconds_count") == 1
        webhook = {"route": INBOUND, "method": "POST"}
        assert value(api_after, "nvr_http_request_seconds_count", **webhook) > value(
            api_before, "nvr_http_request_seconds_count", **webhook
        )
        # Route templates, never paths; counts, never people.
        text = httpx.get(api_url).text + httpx.get(worker_url).text
        assert f"/incidents/{incident_id}" not in text
        assert (ada.phone or "") not in text and (bob.phone or "") not in text
    finally:
        stop_worker(worker)
    assert any(tmp_path.iterdir()), "the worker's processes wrote no metrics files"


def test_several_worker_processes_without_a_shared_directory_are_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "worker", "--metrics-port", str(free_port())],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "PROMETHEUS_MULTIPROC_DIR" in result.stderr
