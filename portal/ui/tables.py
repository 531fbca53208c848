"""Table helpers: one way to order and page every django-tables2 table of the dashboard."""

from __future__ import annotations

import django_tables2 as tables
from django.core.paginator import EmptyPage
from django.http import HttpRequest

MAX_PER_PAGE = 200


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    try:
        return int(request.GET.get(name, default))
    except ValueError:
        return default


def configure(request: HttpRequest, table: tables.Table, *, per_page: int = 25) -> tables.Table:
    """Apply the request's ordering and page; a page past the end shows the last one."""
    tables.RequestConfig(request, paginate=False).configure(table)
    size = _int_param(request, table.prefixed_per_page_field, per_page)
    if not 0 < size <= MAX_PER_PAGE:
        size = per_page
    page = _int_param(request, table.prefixed_page_field, 1)
    try:
        table.paginate(per_page=size, page=page)
    except EmptyPage:
        table.paginate(per_page=size, page=table.paginator.num_pages)
    return table
