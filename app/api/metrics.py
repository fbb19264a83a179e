"""/metrics in the Prometheus text format: this host's process counters and histograms (app.metrics)
and, read at scrape time, the reserve's gauges (app.callout.gauges). Counts only: no personal data."""

from collections.abc import Iterator

import structlog
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from app.callout.gauges import Gauges, read_gauges
from app.db import unit_of_work
from app.metrics import process_registry
from app.queue import get_redis

log = structlog.get_logger(__name__)
router = APIRouter(tags=["ops"])


class _Figures(Collector):
    """One scrape's gauges, already read, in Prometheus's shape."""

    def __init__(self, gauges: Gauges) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        needs = GaugeMetricFamily("nvr_needs", "Needs of open incidents, by state", labels=["state"])
        for state, count in self.gauges.needs.items():
            needs.add_metric([state], count)
        yield needs
        yield GaugeMetricFamily(
            "nvr_messages_waiting",
            "Outbound SMS pending or being sent (the database's backlog, whatever Redis holds)",
            value=self.gauges.messages_waiting,
        )
        if self.gauges.queue_depths is not None:
            depths = GaugeMetricFamily("nvr_queue_depth", "Jobs waiting on each RQ queue", labels=["queue"])
            for queue, count in self.gauges.queue_depths.items():
                depths.add_metric([queue], count)
            yield depths


@router.get("/metrics", response_class=PlainTextResponse)
def metrics() -> PlainTextResponse:
    """Prometheus metrics; the gauges are left out while the database is down (the scrape still works,
    and `/healthz` says what is down)."""
    text = generate_latest(process_registry())
    try:
        with unit_of_work() as session:
            gauges = read_gauges(session, get_redis())
    except SQLAlchemyError as error:
        log.warning("metrics.gauges_unavailable", error=type(error).__name__)
    else:
        figures = CollectorRegistry(auto_describe=False)
        figures.register(_Figures(gauges))
        text += generate_latest(figures)
    return PlainTextResponse(text.decode(), media_type=CONTENT_TYPE_LATEST)
