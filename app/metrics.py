"""The service's Prometheus instruments, defined once and counted where things happen.

Counters and histograms live in the process that does the work (an API process, an RQ worker, the
reconciler). One process exposes its own; several on a host share theirs through prometheus-client's
multiprocess mode: set `PROMETHEUS_MULTIPROC_DIR` to an empty directory before they start and any one
of them (the API's /metrics, `nvr worker --metrics-port`) serves the sum. Gauges read from the
database and Redis (queue depths, needs) are computed when /metrics is scraped, by the API only, so
they are never counted twice. docs/operations.md says which alerts to set on them.
"""

import os
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.registry import REGISTRY

# Seconds, from a fast webhook to a slow fill: the buckets each histogram needs.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LAG_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
_FILL_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)

MESSAGES_SENT = Counter("nvr_messages_sent", "SMS the provider accepted, by kind", ["kind"])
SEND_FAILURES = Counter(
    "nvr_send_failures", "Provider calls that failed, by provider error code ('none' without one)", ["code"]
)
RECEIPT_LAG = Histogram(
    "nvr_receipt_lag_seconds",
    "From the provider accepting an SMS to its final delivery receipt being applied",
    buckets=_LAG_BUCKETS,
)
HTTP_LATENCY = Histogram(
    "nvr_http_request_seconds",
    "Time to answer an HTTP request, by route template (webhooks included)",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
)
LEASES_TAKEN_BACK = Counter(
    "nvr_leases_taken_back", "Send leases of dead or stuck workers taken back by the reconciler"
)
TIME_TO_FILL = Histogram(
    "nvr_need_fill_seconds",
    "From an incident's start to one of its needs being filled",
    buckets=_FILL_BUCKETS,
)


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """A non-negative duration, or None when either end is unknown (nothing to observe)."""
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def process_registry() -> CollectorRegistry:
    """What this host's processes counted: their shared directory in multiprocess mode, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY
