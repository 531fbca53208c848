"""Quota rows from `quotas.usage()` turned into what a Bootstrap progress bar needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import filesizeformat

BYTE_UNITS = {"b", "byte", "bytes"}


def format_quantity(value: int | None, unit: str) -> str:
    """A quantity for people: bytes as KB/MB/GB, other units after the number."""
    if value is None:
        return "unlimited"
    if unit.lower() in BYTE_UNITS:
        return str(filesizeformat(value))
    return f"{value} {unit}".strip()


@dataclass(frozen=True)
class QuotaBar:
    """One resource of one holder: limit, accepted usage and pending (reserved) quantity."""

    resource: str
    description: str
    unit: str
    limit: int | None
    usage: int
    pending: int

    def _pct(self, value: int) -> float:
        if not self.limit:
            return 100.0 if value else 0.0
        return round(min(100.0, 100.0 * value / self.limit), 1)

    @property
    def usage_pct(self) -> float:
        """Accepted usage as a percentage of the limit (at most 100)."""
        return self._pct(self.usage)

    @property
    def pending_pct(self) -> float:
        """Pending usage as a percentage of the limit, never past the bar's end."""
        return round(min(self._pct(self.pending), 100.0 - self.usage_pct), 1)

    @property
    def level(self) -> str:
        """The Bootstrap colour of the usage part: green, then amber past 75 %, red past 90 %."""
        total = self._pct(self.usage + self.pending)
        if total >= 90:
            return "danger"
        if total >= 75:
            return "warning"
        return "success"

    @property
    def summary(self) -> str:
        """E.g. `3 of 8 cores (1 pending)`."""
        text = f"{format_quantity(self.usage, self.unit)} of {format_quantity(self.limit, self.unit)}"
        if self.pending:
            text += f" ({format_quantity(self.pending, self.unit)} pending)"
        return text


def quota_bars(rows: list[dict[str, Any]]) -> list[QuotaBar]:
    """Bars for the rows `quotas.usage()` or `quotas.user_usage()` return."""
    return [
        QuotaBar(
            resource=row["resource"],
            description=row.get("description", ""),
            unit=row.get("unit", ""),
            limit=row.get("limit"),
            usage=row.get("usage", 0),
            pending=row.get("pending", 0),
        )
        for row in rows
    ]
