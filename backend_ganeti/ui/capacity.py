"""A cluster's capacity snapshot as Bootstrap progress bars: memory, disk and CPU, used of total.

Reservations the allocator holds for instances being built show as a striped part after the used
part, so an admin sees capacity that is spoken for but not yet consumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend_ganeti.models import Cluster


def format_mib(mib: int | None) -> str:
    """MiB for people: `512 MiB`, `1.5 GiB`, `2.0 TiB`; `?` when unknown."""
    if mib is None:
        return "?"
    if abs(mib) < 1024:
        return f"{mib} MiB"
    if abs(mib) < 1024 * 1024:
        return f"{mib / 1024:.1f} GiB"
    return f"{mib / 1024 / 1024:.1f} TiB"


@dataclass(frozen=True)
class CapacityBar:
    """One resource of one cluster: used and reserved out of the total."""

    key: str
    label: str
    used: int
    reserved: int
    total: int
    unit: str  # "MiB" (formatted as sizes) or "vCPU"

    def _pct(self, value: int) -> float:
        if self.total <= 0:
            return 0.0
        return round(min(100.0, 100.0 * max(value, 0) / self.total), 1)

    @property
    def used_pct(self) -> float:
        """Used as a percentage of the total (at most 100)."""
        return self._pct(self.used)

    @property
    def reserved_pct(self) -> float:
        """Reserved as a percentage of the total, never past the bar's end."""
        return round(min(self._pct(self.reserved), 100.0 - self.used_pct), 1)

    @property
    def level(self) -> str:
        """Green, amber past 75 %, red past 90 % (used plus reserved)."""
        if self.total <= 0:
            return "secondary"
        share = 100.0 * (self.used + self.reserved) / self.total
        if share >= 90:
            return "danger"
        if share >= 75:
            return "warning"
        return "success"

    def _fmt(self, value: int) -> str:
        return format_mib(value) if self.unit == "MiB" else f"{value} {self.unit}"

    @property
    def summary(self) -> str:
        """E.g. `3.0 GiB of 8.0 GiB (512 MiB reserved)`."""
        if self.total <= 0:
            return "not reported"
        text = f"{self._fmt(self.used)} of {self._fmt(self.total)}"
        if self.reserved:
            text += f" ({self._fmt(self.reserved)} reserved)"
        return text


def capacity_bars(cluster: Cluster) -> list[CapacityBar]:
    """Memory, disk and CPU bars from the cluster's last refresh."""
    return [
        CapacityBar(
            "memory",
            "Memory",
            cluster.mem_total_mb - cluster.mem_free_mb,
            cluster.reserved_mem_mb,
            cluster.mem_total_mb,
            "MiB",
        ),
        CapacityBar(
            "disk",
            "Disk",
            cluster.disk_total_mb - cluster.disk_free_mb,
            cluster.reserved_disk_mb,
            cluster.disk_total_mb,
            "MiB",
        ),
        CapacityBar("cpu", "CPU", cluster.cpu_used, cluster.reserved_cpu, cluster.cpu_total, "vCPU"),
    ]
