"""/metrics on every backend, in Prometheus' text format.

django-prometheus counts the requests (its middlewares, first and last in the chassis'
MIDDLEWARE). A backend runs as several processes: gunicorn's workers, the Celery worker, the
sync consumers and the outbox relay. Each process that has PROMETHEUS_MULTIPROC_DIR in its
environment writes its counters and histograms to files there (prometheus_client's
multiprocess mode), and /metrics, served by any gunicorn worker, adds up every file of the
folder: the consumers' event counters and sync lag are on the backend's own /metrics. The
folder is one per backend, made by the chassis when missing and emptied by whoever starts the
backend's processes (`make up`, the test harness), never while they run. Without the variable
(a test process, `runserver`), the process' own registry is served.

Gauges that a database answers (the outbox backlog) are computed at scrape time, so they need
no process to keep them and never go stale.

/metrics is not a route of the plan: the proxy's public listener answers 404 for it, and it is
served on the backends' own ports, which only the proxy and the scraper reach.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from .backend import MULTIPROCESS_DIR_ENV


def scrape_time_collectors() -> list[Collector]:
    """The collectors that read the database when scraped."""
    from strangler.sync.metrics import OutboxCollector

    return [OutboxCollector()]


def registry() -> CollectorRegistry:
    """Every process' counters (multiprocess mode) or this process' own, and the database's
    gauges."""
    served = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR_ENV):
        multiprocess.MultiProcessCollector(served)
    else:
        served.register(_Process())
    for collector in scrape_time_collectors():
        served.register(collector)
    return served


class _Process(Collector):
    """The process' own registry, as one collector of the registry served."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
