"""Logging helpers: every record carries the current request id; gunicorn's access log as JSON.

`RequestIdFilter` is named in settings.LOGGING. Building it also installs a log record factory,
so `record.request_id` is set when a record is created, whichever handler (console, a file,
pytest's caplog, an error tracker) sees it, and in every process that configures Django logging
(web workers, Celery worker and beat, management commands).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from portal.observability.context import current_request_id

NO_REQUEST = "-"
_MARK = "_nefos_request_id"


def install_record_factory() -> None:
    """Wrap the log record factory so each new record gets `request_id` (once per process)."""
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id() or NO_REQUEST
        return record

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)


class RequestIdFilter(logging.Filter):
    """Makes sure a record has `request_id` (empty requests show as "-") before a handler formats it."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        install_record_factory()

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or NO_REQUEST
        return True


# gunicorn access-log atoms worth a field of their own, by the JSON key they get.
_ACCESS_FIELDS = {
    "remote_addr": "h",
    "method": "m",
    "path": "U",
    "query": "q",
    "status": "s",
    "bytes": "B",
    "duration_ms": "M",
    "user_agent": "a",
    "request_id": "{x-openstack-request-id}o",
}


class AccessJsonFormatter(JsonFormatter):
    """JSON lines for gunicorn's access log, with the request id the portal gave the response.

    gunicorn logs each request as `access_log.info(format, atoms)`; the atoms mapping arrives as
    `record.args` and its interesting entries become fields (portal/gunicorn_conf.py uses this).
    """

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        atoms = record.args if isinstance(record.args, Mapping) else {}
        for key, atom in _ACCESS_FIELDS.items():
            value = atoms.get(atom)
            if value not in (None, "", "-"):
                log_data[key] = value
