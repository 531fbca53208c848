"""Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and Range.

Evaluated in RFC 9110's order, except that If-Unmodified-Since counts even when If-Match is
given, as in Swift. A malformed Range header is ignored (the whole object is sent), as Swift
does, while a well-formed one no range of which overlaps the object answers 416. Spaces around
the unit, `=`, `-` and `,` are allowed (`bytes = 0 - 999`), as Swift allows them.
"""

from __future__ import annotations

import math

from django.http import HttpRequest
from django.utils.http import parse_http_date_safe

from objectstore.api.headers import strip_etag
from objectstore.errors import NotModified, PreconditionFailed, RangeNotSatisfiable
from objectstore.models import ObjectVersion

MAX_RANGES = 100
BIG = 10**18  # larger than any object; longer numbers are clamped to it (int() of huge strings fails)


def _is_number(text: str) -> bool:
    return text == "" or (text.isascii() and text.isdigit())


def _number(text: str) -> int:
    return BIG if len(text) > 18 else int(text)


def _etag_matches(header: str, etag: str) -> bool:
    values = [strip_etag(part) for part in header.split(",")]
    return "*" in values or etag.lower() in values


def check_preconditions(request: HttpRequest, version: ObjectVersion) -> None:
    """Raise PreconditionFailed (412) or NotModified (304) when the request's conditions say so."""
    modified = math.ceil(version.modified_at.timestamp())
    if_match = request.headers.get("If-Match")
    if if_match is not None and not _etag_matches(if_match, version.etag):
        raise PreconditionFailed("A precondition for this request was not met.")
    unmodified_since = parse_http_date_safe(request.headers.get("If-Unmodified-Since", ""))
    # Swift checks If-Unmodified-Since even when If-Match holds (RFC 9110 would skip it).
    if unmodified_since is not None and modified > unmodified_since:
        raise PreconditionFailed("A precondition for this request was not met.")
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if _etag_matches(if_none_match, version.etag):
            raise NotModified()
        return
    modified_since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    if modified_since is not None and modified <= modified_since:
        raise NotModified()


def parse_ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The satisfiable (start, end-inclusive) ranges of a Range header; None to send the whole object.

    Raises RangeNotSatisfiable when the header is valid but no range overlaps the object.
    """
    if not header or size == 0:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for part in parts:
        first, dash, last = (text.strip() for text in part.partition("-"))
        if not dash or not _is_number(first) or not _is_number(last):
            return None
        if first == "" and last == "":
            return None
        if first == "":
            length = _number(last)
            if length > 0:
                ranges.append((max(0, size - length), size - 1))
            continue
        start = _number(first)
        if last and _number(last) < start:
            return None
        if start < size:
            ranges.append((start, min(_number(last), size - 1) if last else size - 1))
    if not ranges:
        raise RangeNotSatisfiable(size)
    return ranges
