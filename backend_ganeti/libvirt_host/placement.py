"""Placement inside the host: free capacity per node, accounted from the defined domains.

Pure functions over plain values, so they are tested without libvirt. Memory counts every
defined domain on a node, running or not (the memory a stopped instance needs to start again is
kept, as Ganeti's allocator does); disk counts the `file` disks. The node with the most free
memory wins unless the caller names one; drained and offline nodes take no new instances.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backend_ganeti.libvirt_host.records import DomainRecord


class PlacementError(Exception):
    """No node (or not the named node) can take the instance; the message says why."""


@dataclass(frozen=True)
class NodeCapacity:
    """A node's totals and admin flags."""

    name: str
    memory_mb: int
    disk_mb: int
    cpus: int
    drained: bool = False
    offline: bool = False


@dataclass(frozen=True)
class NodeUsage:
    """What the domains defined on a node take, and what is left."""

    name: str
    memory_used_mb: int
    disk_used_mb: int
    vcpus_used: int
    instances: int
    memory_free_mb: int
    disk_free_mb: int


def usage_by_node(nodes: Iterable[NodeCapacity], records: Iterable[DomainRecord]) -> dict[str, NodeUsage]:
    """Usage and free capacity of every node (domains on unknown nodes are ignored)."""
    capacity = {node.name: node for node in nodes}
    memory = dict.fromkeys(capacity, 0)
    disk = dict.fromkeys(capacity, 0)
    vcpus = dict.fromkeys(capacity, 0)
    count = dict.fromkeys(capacity, 0)
    for record in records:
        if record.node in capacity:
            memory[record.node] += record.memory_mb
            disk[record.node] += record.disk_mb
            vcpus[record.node] += record.vcpus
            count[record.node] += 1
    return {
        name: NodeUsage(
            name=name,
            memory_used_mb=memory[name],
            disk_used_mb=disk[name],
            vcpus_used=vcpus[name],
            instances=count[name],
            memory_free_mb=node.memory_mb - memory[name],
            disk_free_mb=node.disk_mb - disk[name],
        )
        for name, node in capacity.items()
    }


def _shortfall(node: NodeCapacity, usage: NodeUsage, memory_mb: int, disk_mb: int) -> str:
    """Why `node` cannot take the instance, '' when it can."""
    if node.offline:
        return f"node {node.name} is offline"
    if node.drained:
        return f"node {node.name} is drained"
    if usage.memory_free_mb < memory_mb:
        return f"not enough memory on node {node.name}: needed {memory_mb} MiB, free {usage.memory_free_mb} MiB"
    if usage.disk_free_mb < disk_mb:
        return f"not enough disk space on node {node.name}: needed {disk_mb} MiB, free {usage.disk_free_mb} MiB"
    return ""


def choose_node(
    nodes: Iterable[NodeCapacity],
    usage: dict[str, NodeUsage],
    *,
    memory_mb: int,
    disk_mb: int,
    node: str | None = None,
    exclude: Iterable[str] = (),
) -> str:
    """The node that takes a new (or moving) instance; raises PlacementError with the reason."""
    capacity = {item.name: item for item in nodes}
    if node:
        if node not in capacity:
            raise PlacementError(f"unknown node {node!r} (nodes: {', '.join(sorted(capacity))})")
        reason = _shortfall(capacity[node], usage[node], memory_mb, disk_mb)
        if reason:
            raise PlacementError(reason)
        return node
    excluded = set(exclude)
    fitting = [
        name
        for name, item in capacity.items()
        if name not in excluded and not _shortfall(item, usage[name], memory_mb, disk_mb)
    ]
    if not fitting:
        raise PlacementError(
            f"no node can take {memory_mb} MiB of memory and {disk_mb} MiB of disk"
            + (f" (excluding {', '.join(sorted(excluded))})" if excluded else "")
        )
    # max() keeps the first of equals: ties go to the first node by name.
    return max(sorted(fitting), key=lambda name: (usage[name].memory_free_mb, usage[name].disk_free_mb))
