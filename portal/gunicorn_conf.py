"""gunicorn settings of the Nefos web process (`make demo` and production alike).

    gunicorn --config portal/gunicorn_conf.py portal.wsgi

Environment: PORTAL_BIND (default 127.0.0.1:$PORTAL_PORT, port 8000), PORTAL_WEB_WORKERS (2),
PORTAL_WEB_TIMEOUT (120 s), PORTAL_LOG_FORMAT (json or text, as the portal's own logs).
Workers are sync: uploads stream through them, and gthread measured 5-10x slower on large ones.
With PROMETHEUS_MULTIPROC_DIR set, a dead worker's live gauges are dropped (`child_exit`).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import multiprocess

bind = [os.environ.get("PORTAL_BIND") or f"127.0.0.1:{os.environ.get('PORTAL_PORT') or '8000'}"]
workers = int(os.environ.get("PORTAL_WEB_WORKERS") or "2")
worker_class = "sync"
timeout = int(os.environ.get("PORTAL_WEB_TIMEOUT") or "120")
graceful_timeout = 15
keepalive = 5
# gunicorn 24+ opens a control socket in ~/.gunicorn by default; several portals on one host
# would fight over it, and nothing here uses it.
control_socket_disable = True
# Swift's limits are enforced by the object store itself, with Swift's answers (400 for a header
# line over 8192 bytes or too much metadata, 405 for an unknown method); gunicorn's own, tighter
# defaults would answer 431 or 400 first. Header lines up to 16 KiB, 256 header fields, and a
# request line long enough for a percent-encoded 1024-byte object name in a 256-byte container.
limit_request_line = 8190
limit_request_field_size = 16384
limit_request_fields = 256
permit_unconventional_http_method = True

accesslog = "-"
errorlog = "-"
_LOG_FORMAT = os.environ.get("PORTAL_LOG_FORMAT", "json")
if _LOG_FORMAT == "text":
    access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms req=%({x-openstack-request-id}o)s'
else:
    access_log_format = "%(m)s %(U)s %(s)s"
    _handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
            "access": {
                "()": "portal.observability.logging.AccessJsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
        },
        "handlers": {
            "error_console": {**_handler, "formatter": "json"},
            "access_console": {**_handler, "formatter": "access"},
        },
        "root": {"handlers": ["error_console"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["error_console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["access_console"], "level": "INFO", "propagate": False},
        },
    }


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus_client that this worker is gone, so its live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
