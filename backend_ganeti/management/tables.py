"""Tables in the style of the gnt-* tools: aligned columns, `--no-headers`, `--separator`, `-o`, `--units`.

Follows Ganeti's `GenerateTable`/`FormatUnit`: numbers are right-aligned, text left-aligned;
sizes are MiB shown human-readable (`512M`, `1.2G`, `3.0T`) unless `--units m|g|t` asks for a
fixed unit; a separator turns alignment off and makes sizes plain MiB, so the output is easy to
parse. A value a node could not report is `?`, one an offline node cannot report `*`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

OFFLINE = "*"
UNKNOWN = "?"
UNITS = ("h", "m", "g", "t")


class Kind:
    """How a column's values are formatted and aligned."""

    TEXT = "text"
    NUMBER = "number"
    SIZE = "size"


@dataclass(frozen=True)
class Column:
    """One selectable column: its `-o` key, header, value getter and kind."""

    key: str
    title: str
    get: Callable[[Any], Any]
    kind: str = Kind.TEXT

    @property
    def right_aligned(self) -> bool:
        """Numbers and sizes line up on the right, as in `gnt-node list`."""
        return self.kind in (Kind.NUMBER, Kind.SIZE)


def format_unit(mib: float, units: str) -> str:
    """A size in MiB as Ganeti prints it: `h` picks M/G/T, `m`/`g`/`t` force a unit without suffix."""
    if units not in UNITS:
        raise CommandError(f"Unknown unit {units!r}: use one of {', '.join(UNITS)}.")
    if units == "m" or (units == "h" and mib < 1024):
        return f"{round(mib)}{'M' if units == 'h' else ''}"
    if units == "g" or (units == "h" and mib < 1024 * 1024):
        return f"{mib / 1024:.1f}{'G' if units == 'h' else ''}"
    return f"{mib / 1024 / 1024:.1f}{'T' if units == 'h' else ''}"


def format_value(value: Any, kind: str, units: str) -> str:
    """One cell: sizes through `format_unit`, booleans as Y/N, times in local time, None as `?`."""
    if value is None:
        return UNKNOWN
    if isinstance(value, str) and value == OFFLINE and kind != Kind.TEXT:
        return OFFLINE
    if isinstance(value, bool):
        return "Y" if value else "N"
    if kind == Kind.SIZE:
        return format_unit(float(value), units)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def select_columns(spec: str | None, columns: Sequence[Column], default: Sequence[str]) -> list[Column]:
    """The columns `-o` names (`a,b`), or the defaults plus some (`+a,b`), or the defaults."""
    by_key = {column.key: column for column in columns}
    if not spec:
        keys = list(default)
    elif spec.startswith("+"):
        keys = [*default, *(k for k in spec[1:].split(",") if k)]
    else:
        keys = [k for k in spec.split(",") if k]
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise CommandError(f"Unknown output field(s): {', '.join(unknown)}. Known fields: {', '.join(by_key)}.")
    return [by_key[k] for k in keys]


def render(
    columns: Sequence[Column],
    records: Iterable[Any],
    *,
    headers: bool = True,
    separator: str | None = None,
    units: str | None = None,
) -> list[str]:
    """The table's lines (no trailing spaces)."""
    units = units or ("m" if separator is not None else "h")
    rows = [[format_value(c.get(record), c.kind, units) for c in columns] for record in records]
    if headers:
        rows.insert(0, [c.title for c in columns])
    if separator is not None:
        return [separator.join(row) for row in rows]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(len(columns))]
    lines = []
    for row in rows:
        cells = []
        for i, (column, cell) in enumerate(zip(columns, row, strict=True)):
            last = i == len(columns) - 1
            if column.right_aligned:
                cells.append(cell.rjust(widths[i]))
            else:
                cells.append(cell if last else cell.ljust(widths[i]))
        lines.append(" ".join(cells).rstrip())
    return lines


def add_table_arguments(parser: CommandParser, columns: Sequence[Column], default: Sequence[str]) -> None:
    """The list options every gnt_* `list` subcommand takes."""
    parser.add_argument("--no-headers", action="store_true", help="Do not print the header line.")
    parser.add_argument("--separator", default=None, help="Separate fields with this string (no alignment).")
    parser.add_argument(
        "--units",
        choices=UNITS,
        default=None,
        help="Size units: h(uman, default), m(ebibytes), g, t (default m with --separator).",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FIELDS",
        help=f"Comma-separated fields, or +FIELDS to add to the default ({','.join(default)}). "
        f"Known: {','.join(c.key for c in columns)}.",
    )


def render_from_options(
    columns: Sequence[Column], default: Sequence[str], records: Iterable[Any], options: dict[str, Any]
) -> list[str]:
    """`render` driven by the options `add_table_arguments` declared."""
    chosen = select_columns(options.get("output"), columns, default)
    return render(
        chosen,
        records,
        headers=not options.get("no_headers"),
        separator=options.get("separator"),
        units=options.get("units"),
    )
