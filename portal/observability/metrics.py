"""Prometheus metrics: request counts and latency by view, Celery task counts.

With several processes (gunicorn workers, Celery), set PROMETHEUS_MULTIPROC_DIR before start-up
(`make demo` does); `/metrics` then aggregates every process's samples.
"""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

HTTP_REQUESTS = Counter(
    "portal_http_requests_total", "HTTP requests served, by view, method and status.", ["view", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to serve an HTTP request, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASKS = Counter("portal_celery_tasks_total", "Celery tasks finished, by task and state.", ["task", "state"])


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Serve every metric in the Prometheus text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
