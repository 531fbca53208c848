"""Swift listings: prefix, delimiter (subdir roll-up), marker, end_marker, limit and reverse.

Names are compared by code point (the order of SQLite's BINARY and PostgreSQL's C collation),
so a marker always continues exactly where the previous page stopped. With a delimiter, each
subdir costs one query: after emitting it the scan jumps past every name under it. `path`
(Swift's older form) lists the entries directly under a pseudo-directory, its `dir/` markers
included, as objects. Names never hold a NUL, so a bound holding one is cut there (PostgreSQL
cannot compare it): `x\0...` sits just above `x` and below every longer name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum

from identity.models import Project
from objectstore.models import Container, Object
from objectstore.services.containers import live_objects_q

MAX_CODE_POINT = 0x10FFFF


@dataclass(frozen=True)
class ListingQuery:
    """The listing parameters of one request (already validated)."""

    prefix: str = ""
    delimiter: str = ""
    marker: str = ""
    end_marker: str = ""
    limit: int = 10000
    reverse: bool = False
    path: str | None = None


@dataclass(frozen=True)
class Subdir:
    """A rolled-up pseudo-directory in a delimited listing."""

    name: str


def _successor(text: str) -> str | None:
    """The smallest string greater than every string that starts with `text` (None if unbounded)."""
    while text:
        last = ord(text[-1])
        if last < MAX_CODE_POINT:
            return text[:-1] + chr(last + 1)
        text = text[:-1]
    return None


@dataclass
class _Window:
    """The open name interval still to scan: (low, high), each bound inclusive or not."""

    low: str | None = None
    low_inclusive: bool = False
    high: str | None = None
    high_inclusive: bool = False

    def raise_low(self, value: str, inclusive: bool) -> None:
        if "\x00" in value:  # `x\0...` < name  <=>  `x` < name, for names without NUL
            value, inclusive = value.partition("\x00")[0], False
        if self.low is None or value > self.low or (value == self.low and not inclusive):
            self.low, self.low_inclusive = value, inclusive

    def lower_high(self, value: str, inclusive: bool = False) -> None:
        if "\x00" in value:  # name < `x\0...`  <=>  name <= `x`, for names without NUL
            value, inclusive = value.partition("\x00")[0], True
        if self.high is None or value < self.high or (value == self.high and not inclusive):
            self.high, self.high_inclusive = value, inclusive

    def q(self) -> Q:
        result = Q()
        if self.low is not None:
            result &= Q(name__gte=self.low) if self.low_inclusive else Q(name__gt=self.low)
        if self.high is not None:
            result &= Q(name__lte=self.high) if self.high_inclusive else Q(name__lt=self.high)
        return result


def _effective(query: ListingQuery) -> ListingQuery:
    """`path=p` is `prefix=p/` (`p` without its trailing slashes) with `/` as the delimiter."""
    if query.path is None:
        return query
    prefix = query.path.rstrip("/") + "/" if query.path else ""
    return replace(query, prefix=prefix, delimiter="/")


def _initial_window(query: ListingQuery) -> _Window:
    window = _Window()
    if query.prefix:
        window.raise_low(query.prefix, True)
        upper = _successor(query.prefix)
        if upper is not None:
            window.lower_high(upper)
    low, high = (query.end_marker, query.marker) if query.reverse else (query.marker, query.end_marker)
    if low:
        window.raise_low(low, False)
    if high:
        window.lower_high(high)
    return window


def _skip_deeper(window: _Window, query: ListingQuery, name: str) -> bool:
    """For `path` listings: move the window past a name below a sub-directory; False if the name is listed."""
    cut = name.find("/", len(query.prefix))
    if cut < 0 or cut == len(name) - 1:
        return False
    if query.reverse:
        window.lower_high(name[: cut + 1], inclusive=True)  # the `dir/` marker itself is still listed
    else:
        window.raise_low(name[:cut] + "0", True)  # "0" follows "/" in code point order
    return True


def paginate(rows: QuerySet, query: ListingQuery) -> list[dict[str, Any] | Subdir]:
    """One page of `rows` (a `.values()` queryset with a `name` key) under Swift's listing rules."""
    query = _effective(query)
    if "\x00" in query.prefix:
        return []
    window = _initial_window(query)
    results: list[dict[str, Any] | Subdir] = []
    order = "-name" if query.reverse else "name"
    while len(results) < query.limit:
        wanted = query.limit - len(results)
        batch = list(rows.filter(window.q()).order_by(order)[:wanted])
        jumped = False
        for row in batch:
            name = row["name"]
            if query.path is not None:
                if _skip_deeper(window, query, name):
                    jumped = True
                    break
                if name == query.prefix:  # the directory's own marker object is not listed under it
                    if query.reverse:
                        window.lower_high(name)
                    else:
                        window.raise_low(name, False)
                    continue
            elif query.delimiter:
                cut = name.find(query.delimiter, len(query.prefix))
                if cut >= 0:
                    subdir = name[: cut + len(query.delimiter)]
                    if subdir != query.marker:
                        results.append(Subdir(subdir))
                    if query.reverse:
                        window.lower_high(subdir)
                    else:
                        after = _successor(subdir)
                        if after is None:
                            return results
                        window.raise_low(after, True)
                    jumped = True
                    break
            results.append(row)
            if query.reverse:
                window.lower_high(name)
            else:
                window.raise_low(name, False)
        if not jumped and len(batch) < wanted:
            break
    return results


def list_objects(container: Container, query: ListingQuery) -> list[dict[str, Any] | Subdir]:
    """A page of a container's live objects: name, bytes, hash, content_type, last_modified."""
    rows = (
        Object.objects.filter(container=container)
        .filter(live_objects_q())
        .values(
            "name",
            bytes=F("current__size"),
            hash=F("current__etag"),
            content_type=F("current__content_type"),
            last_modified=F("current__modified_at"),
            manifest_kind=F("current__manifest_kind"),
            manifest=F("current__manifest"),
        )
    )
    return paginate(rows, query)


def list_containers(project: Project, query: ListingQuery) -> list[dict[str, Any] | Subdir]:
    """A page of an account's containers: name, count, bytes, last_modified (creation time)."""
    live = live_objects_q("contents__")
    rows = (
        Container.objects.filter(project=project)
        .values("name")
        .annotate(
            count=Count("contents", filter=live),
            bytes=Sum("contents__current__size", filter=live),
            last_modified=F("updated_at"),
        )
    )
    return paginate(rows, query)
