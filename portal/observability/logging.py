"""Logging helpers: a filter that stamps every record with the current request id."""

from __future__ import annotations

import logging

from portal.observability.context import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to each log record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True
