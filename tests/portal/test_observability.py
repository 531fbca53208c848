"""Operability: /health, /metrics, request ids on responses and log records, gunicorn hooks.

/health talks to whatever broker the settings name: the filesystem broker by default, RabbitMQ
when CELERY_BROKER_URL says amqp:// (as in CI); the tests hold for either.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from portal.observability.context import reset_request_id, set_request_id
from portal.observability.logging import AccessJsonFormatter, RequestIdFilter

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "portal" / "gunicorn_conf.py"
log = logging.getLogger("tests.observability")


def _logging_view(request: HttpRequest) -> HttpResponse:
    log.warning("inside the view")
    return HttpResponse("logged")


# A URLconf of the real routes plus one view that logs, for the log-record test.
urlpatterns = [path("test-log", _logging_view, name="test-log")]


def _request_samples(exposition: str) -> list[str]:
    """The portal_http_requests_total sample lines of a Prometheus text exposition."""
    return [line for line in exposition.splitlines() if line.startswith("portal_http_requests_total{")]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound by us, never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.django_db
def test_health_ok_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/health")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["broker"]["status"] == "ok"


@pytest.mark.django_db
def test_health_503_when_broker_unreachable(client: Client, settings, closed_port: int) -> None:
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{closed_port}//"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["broker"]["status"] == "error"
    assert body["checks"]["broker"]["message"]
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.django_db
def test_metrics_count_requests_by_view_when_a_view_was_served(client: Client) -> None:
    client.get("/health")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = _request_samples(response.content.decode())
    assert any('view="health"' in line and 'method="GET"' in line for line in samples), samples


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/health", "/metrics", "/no/such/page", "/identity/no-such-thing"])
def test_response_carries_request_id_when_any_path_is_served(client: Client, url: str) -> None:
    response = client.get(url)

    request_id = response["X-Openstack-Request-Id"]
    assert request_id.startswith("tx")
    uuid.UUID(hex=request_id.removeprefix("tx"))
    assert response["X-Request-Id"] == request_id


@pytest.mark.django_db
def test_request_id_echoed_when_incoming_id_is_sane(client: Client) -> None:
    response = client.get("/health", headers={"X-Request-Id": "lb-1234.abc_def:9"})

    assert response["X-Openstack-Request-Id"] == "lb-1234.abc_def:9"


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["has space", "x" * 65, "semi;colon", "new\u00e9line"])
def test_request_id_replaced_when_incoming_id_is_not_sane(client: Client, incoming: str) -> None:
    response = client.get("/health", headers={"X-Request-Id": incoming})

    assert response["X-Openstack-Request-Id"] != incoming
    assert response["X-Openstack-Request-Id"].startswith("tx")


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.test_observability")
def test_log_record_carries_request_id_when_logged_during_a_request(client: Client, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="tests.observability"):
        response = client.get("/test-log", headers={"X-Request-Id": "trace-42"})

    assert response.status_code == 200
    records = [r for r in caplog.records if r.getMessage() == "inside the view"]
    assert len(records) == 1
    assert records[0].request_id == "trace-42"


def test_log_record_request_id_is_dash_when_logged_outside_a_request(caplog) -> None:
    RequestIdFilter()  # as settings.LOGGING builds it: installs the record factory

    with caplog.at_level(logging.INFO, logger="tests.observability"):
        log.info("no request here")

    assert caplog.records[-1].request_id == "-"


def test_access_log_json_has_request_id_when_gunicorn_logs_a_request() -> None:
    atoms = {"m": "GET", "U": "/health", "s": "200", "M": 3, "h": "127.0.0.1", "{x-openstack-request-id}o": "req-1"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(m)s %(U)s %(s)s", (atoms,), None)

    line = AccessJsonFormatter("%(message)s").format(record)

    assert '"message": "GET /health 200"' in line
    assert '"request_id": "req-1"' in line
    assert '"duration_ms": 3' in line


def test_request_id_context_restored_when_request_ends() -> None:
    token = set_request_id("outer")
    try:
        inner = set_request_id("inner")
        reset_request_id(inner)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        RequestIdFilter().filter(record)
    finally:
        reset_request_id(token)
    assert record.request_id == "outer"


def _load_gunicorn_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in ("PORTAL_BIND", "PORTAL_PORT", "PORTAL_WEB_WORKERS", "PORTAL_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", GUNICORN_CONF)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_binds_loopback_port_when_only_portal_port_is_set(monkeypatch) -> None:
    conf = _load_gunicorn_conf(monkeypatch, PORTAL_PORT="8123")

    assert conf.bind == ["127.0.0.1:8123"]
    assert conf.worker_class == "sync"


def test_gunicorn_binds_portal_bind_when_set(monkeypatch) -> None:
    conf = _load_gunicorn_conf(monkeypatch, PORTAL_PORT="8123", PORTAL_BIND="unix:/run/nefos.sock")

    assert conf.bind == ["unix:/run/nefos.sock"]


def test_gunicorn_marks_worker_dead_when_child_exits_in_multiprocess_mode(monkeypatch, tmp_path) -> None:
    conf = _load_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    dead: list[int] = []
    monkeypatch.setattr(conf.multiprocess, "mark_process_dead", dead.append)

    conf.child_exit(server=None, worker=SimpleNamespace(pid=4242))

    assert dead == [4242]


def test_gunicorn_child_exit_does_nothing_when_not_in_multiprocess_mode(monkeypatch) -> None:
    conf = _load_gunicorn_conf(monkeypatch)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    dead: list[int] = []
    monkeypatch.setattr(conf.multiprocess, "mark_process_dead", dead.append)

    conf.child_exit(server=None, worker=SimpleNamespace(pid=4242))

    assert dead == []


def test_metrics_aggregate_processes_when_multiprocess_dir_is_set(tmp_path: Path) -> None:
    """In a fresh process with PROMETHEUS_MULTIPROC_DIR (as `make demo` runs), /metrics reads the shared files."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "client = Client()\n"
        "assert client.get('/health').status_code == 200\n"
        "print(client.get('/metrics').content.decode())\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        PORTAL_DATA_DIR=str(tmp_path / "data"),
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_ALLOWED_HOSTS="testserver",
    )
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)

    command = [sys.executable, "-c", script]
    result = subprocess.run(command, env=env, cwd=GUNICORN_CONF.parents[1], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert any('view="health"' in line for line in _request_samples(result.stdout)), result.stdout
    assert list(metrics_dir.glob("counter_*.db")), "no per-process sample files were written"
