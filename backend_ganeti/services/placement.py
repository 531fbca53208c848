"""Pure placement rules: which clusters may hold an instance, how they rank, and node-level packing.

No database and no Django here: `services.allocation` feeds these functions with capacity read
from Cluster rows, and `bench/bench_allocation.py` feeds them with simulated clusters, so both run
the very same rules (docs/allocation.md).

Units: MiB for memory and disk, vCPUs for CPU. A cluster may run `cpu_total * cpu_ratio` vCPUs
(settings.BACKEND_CPU_RATIO, default 4.0 vCPUs per physical core).

The score (lower is better) is the used fraction of the cluster *after* placing the instance:
    score = 0.5 · cpu_used_ratio + 0.25 · mem_used_ratio + 0.25 · disk_used_ratio
Synnefo's default allocator used 0.5·cpu + 0.5·(mem + disk), with CPU estimated as 4 vCPUs per
instance; here CPU is the real vCPU count and the memory/disk half is averaged so that a score is
a fraction in [0, 1]. A cluster reporting no disk capacity (disk_total 0) has disk ratio 0 and is
not filtered on disk (its storage is outside the nodes, e.g. shared file or RBD).

`NodeHints` carry a server group's wish (same node as its members, or none of theirs); `pick_node`
applies it to one cluster's nodes and `rank_with_hints` to every cluster (docs/allocation.md).
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DEFAULT_CPU_RATIO = 4.0
# Stands for a node figure the cluster did not report (never the limiting one).
MAX_NODE_FIGURE = 2**62

# Templates whose disks live on the nodes' own storage (what Ganeti's dtotal/dfree report);
# drbd keeps a copy on the primary and one on the secondary node.
LOCAL_DISK_COPIES: dict[str, int] = {"plain": 1, "file": 1, "drbd": 2}
# Every template Ganeti 3 knows; the others keep their disks off the nodes (or have none).
KNOWN_TEMPLATES = ("diskless", "file", "sharedfile", "plain", "drbd", "blockdev", "rbd", "ext", "gluster")


class Reason(enum.StrEnum):
    """Why a cluster cannot take an instance, in the order the filters are applied."""

    OFFLINE = "offline"
    DRAINED = "drained"
    UNREACHABLE = "unreachable"
    PROJECT = "project"
    TEMPLATE = "template"
    MEMORY = "memory"
    DISK = "disk"
    CPU = "cpu"
    AFFINITY = "affinity"  # no node keeps a strict (anti-)affinity rule (see NodeHints)


@dataclass(frozen=True)
class Request:
    """What one instance needs; `disk_mb` is the sum of its disks."""

    vcpus: int
    memory_mb: int
    disk_mb: int
    disk_template: str
    project_id: str | None = None

    @property
    def disk_demand_mb(self) -> int:
        """Node-local disk the instance consumes in its cluster (see `disk_demand`)."""
        return disk_demand(self.disk_template, self.disk_mb)


def disk_demand(template: str, disk_mb: int) -> int:
    """Node-local disk consumed by `disk_mb` of disks in `template` (0 when stored elsewhere)."""
    if template in LOCAL_DISK_COPIES:
        return disk_mb * LOCAL_DISK_COPIES[template]
    if template in KNOWN_TEMPLATES:
        return 0
    return disk_mb  # unknown template: assume node-local, the cautious choice


@dataclass
class NodeCapacity:
    """Free capacity of one simulated node (the benchmark's node-level packing)."""

    name: str
    mem_free_mb: int
    disk_free_mb: int
    vcpus_free: int
    instances: int = 0

    def fits(self, request: Request) -> bool:
        """True when the node has room for the instance on every resource."""
        return (
            self.mem_free_mb >= request.memory_mb
            and self.disk_free_mb >= request.disk_demand_mb
            and self.vcpus_free >= request.vcpus
        )

    def take(self, request: Request) -> None:
        """Place the instance here."""
        self.mem_free_mb -= request.memory_mb
        self.disk_free_mb -= request.disk_demand_mb
        self.vcpus_free -= request.vcpus
        self.instances += 1


@dataclass
class ClusterCapacity:
    """A cluster as the allocator sees it: admin state, who may use it, capacity and reservations.

    `key` identifies the cluster for the caller (the row's primary key, or an index in the bench).
    `nodes` is only filled by the benchmark, which simulates what Ganeti's allocator does inside.
    """

    name: str
    key: object = None
    state: str = "enabled"
    reachable: bool = True
    public: bool = True
    project_ids: frozenset[str] = frozenset()
    disk_templates: tuple[str, ...] = ()  # empty: every template
    mem_total_mb: int = 0
    mem_free_mb: int = 0
    disk_total_mb: int = 0
    disk_free_mb: int = 0
    cpu_total: int = 0
    cpu_used: int = 0
    reserved_mem_mb: int = 0
    reserved_disk_mb: int = 0
    reserved_cpu: int = 0
    nodes: list[NodeCapacity] = field(default_factory=list, repr=False)

    @property
    def mem_available_mb(self) -> int:
        """Free memory not yet promised to an instance being created."""
        return self.mem_free_mb - self.reserved_mem_mb

    @property
    def disk_available_mb(self) -> int:
        """Free node-local disk not yet promised."""
        return self.disk_free_mb - self.reserved_disk_mb

    def vcpus_limit(self, cpu_ratio: float) -> int:
        """How many vCPUs the cluster may run in all (cores * overcommit ratio, rounded down)."""
        return math.floor(self.cpu_total * cpu_ratio)

    def vcpus_available(self, cpu_ratio: float) -> int:
        """vCPUs still free after running instances and reservations."""
        return self.vcpus_limit(cpu_ratio) - self.cpu_used - self.reserved_cpu

    def reserve(self, request: Request) -> None:
        """Count the instance against this cluster (the in-memory twin of allocation's UPDATE)."""
        self.reserved_mem_mb += request.memory_mb
        self.reserved_disk_mb += request.disk_demand_mb
        self.reserved_cpu += request.vcpus


def rejection(cap: ClusterCapacity, request: Request, *, cpu_ratio: float = DEFAULT_CPU_RATIO) -> Reason | None:
    """The first filter `cap` fails for `request`, or None when the instance fits."""
    if cap.state == "offline":
        return Reason.OFFLINE
    if cap.state == "drained":
        return Reason.DRAINED
    if not cap.reachable:
        return Reason.UNREACHABLE
    if not cap.public and request.project_id not in cap.project_ids:
        return Reason.PROJECT
    if cap.disk_templates and request.disk_template not in cap.disk_templates:
        return Reason.TEMPLATE
    if cap.mem_available_mb < request.memory_mb:
        return Reason.MEMORY
    if cap.disk_total_mb and cap.disk_available_mb < request.disk_demand_mb:
        return Reason.DISK
    if cap.vcpus_available(cpu_ratio) < request.vcpus:
        return Reason.CPU
    return None


def score(cap: ClusterCapacity, request: Request, *, cpu_ratio: float = DEFAULT_CPU_RATIO) -> float:
    """How full `cap` would be with the instance placed on it (0 empty .. 1 full; lower is better)."""
    limit = cap.vcpus_limit(cpu_ratio)
    cpu = (cap.cpu_used + cap.reserved_cpu + request.vcpus) / limit if limit > 0 else 1.0
    mem = 1.0 - (cap.mem_available_mb - request.memory_mb) / cap.mem_total_mb if cap.mem_total_mb else 1.0
    disk = 1.0 - (cap.disk_available_mb - request.disk_demand_mb) / cap.disk_total_mb if cap.disk_total_mb else 0.0
    return 0.5 * cpu + 0.25 * mem + 0.25 * disk


def rank(
    caps: Iterable[ClusterCapacity], request: Request, *, cpu_ratio: float = DEFAULT_CPU_RATIO
) -> list[ClusterCapacity]:
    """The clusters that can take `request`, best score first (ties broken by name)."""
    fitting = [cap for cap in caps if rejection(cap, request, cpu_ratio=cpu_ratio) is None]
    return sorted(fitting, key=lambda cap: (score(cap, request, cpu_ratio=cpu_ratio), cap.name))


def explain(rejections: Sequence[Reason], request: Request) -> str:
    """A user-facing sentence saying why no cluster took `request`, from each cluster's reason.

    It names the furthest filter any cluster reached (so "no enabled cluster allows disk
    template drbd" rather than a list of every cluster's state) and never names clusters.
    """
    wanted = f"{request.vcpus} vCPU, {request.memory_mb} MiB RAM, {request.disk_mb} MiB disk ({request.disk_template})"
    if not rejections:
        return f"No cluster can hold {wanted}: no cluster is configured."
    counts = {reason: sum(1 for r in rejections if r == reason) for reason in Reason}
    admin = (Reason.OFFLINE, Reason.DRAINED, Reason.UNREACHABLE)
    if all(r in admin for r in rejections):
        states = ", ".join(f"{counts[r]} {r.value}" for r in admin if counts[r])
        return f"No cluster can hold {wanted}: no cluster is enabled and reachable ({states})."
    if all(r in (*admin, Reason.PROJECT) for r in rejections):
        return f"No cluster can hold {wanted}: no enabled cluster is available to this project."
    if all(r in (*admin, Reason.PROJECT, Reason.TEMPLATE) for r in rejections):
        return f"No cluster can hold {wanted}: no enabled cluster allows disk template {request.disk_template}."
    if counts[Reason.AFFINITY]:
        return f"No cluster can hold {wanted}: no node with room keeps the server group's placement policy."
    short = [
        f"{label} on {counts[reason]}"
        for reason, label in ((Reason.MEMORY, "memory"), (Reason.DISK, "disk"), (Reason.CPU, "vCPUs"))
        if counts[reason]
    ]
    return f"No cluster can hold {wanted}: not enough free capacity on any enabled cluster ({', '.join(short)})."


class NodePacker:
    """Online best-fit of instances onto one cluster's nodes, keyed on free memory.

    Best fit: the node with the least free memory that still has room on every resource, so
    partly used nodes fill up before an empty one is opened. Nodes are kept sorted by free memory,
    so finding one costs a binary search instead of a scan.
    """

    def __init__(self, nodes: Sequence[NodeCapacity]) -> None:
        """Index `nodes` (their free capacity changes in place as instances are placed)."""
        self.nodes = list(nodes)
        self._keys = sorted((node.mem_free_mb, index) for index, node in enumerate(self.nodes))

    def place(self, request: Request) -> NodeCapacity | None:
        """Put the instance on the best-fitting node and return it, or None when no node fits."""
        keys = self._keys
        position = bisect.bisect_left(keys, (request.memory_mb, -1))
        while position < len(keys):
            index = keys[position][1]
            node = self.nodes[index]
            if node.fits(request):
                del keys[position]
                node.take(request)
                bisect.insort(keys, (node.mem_free_mb, index))
                return node
            position += 1
        return None


@dataclass(frozen=True)
class NodeHints:
    """A server group's wish for a new member: `members` counts its live members per (cluster, node).

    `affinity`: on a node the members use (the most used first); otherwise on a node none of them
    uses. `strict` refuses a cluster where the wish cannot be kept (Nova's affinity and
    anti-affinity); soft hints only rank such clusters after the ones that keep it.
    """

    members: dict[tuple[str, str], int]
    affinity: bool
    strict: bool


@dataclass(frozen=True)
class NodeChoice:
    """Where in a cluster to put the instance: `node` (None: the cluster's allocator picks), and
    whether a soft hint had to be `broken`."""

    node: str | None
    broken: bool = False


def pick_node(cluster: str, nodes: Sequence[NodeCapacity], request: Request, hints: NodeHints) -> NodeChoice | None:
    """The node of `cluster` that keeps `hints` for `request` (most free memory among equals);
    None when a strict hint cannot be kept there. `nodes` are the usable nodes the portal knows."""
    here = {node: count for (name, node), count in hints.members.items() if name == cluster and node and count}
    fitting = [n for n in nodes if n.fits(request)]
    roomiest = sorted(fitting, key=lambda n: (-n.mem_free_mb, n.name))
    if hints.affinity:
        if not any(hints.members.values()):
            return NodeChoice(roomiest[0].name if roomiest else None)
        known = {n.name for n in nodes}
        wanted = [n for n in roomiest if n.name in here]
        wanted += [NodeCapacity(name, 0, 0, 0) for name in here if name not in known]  # not reported: trust
        if wanted:
            return NodeChoice(max(wanted, key=lambda n: here[n.name]).name)
        if hints.strict:
            return None
        return NodeChoice(roomiest[0].name if roomiest else None, broken=True)
    free = [n for n in roomiest if n.name not in here]
    if free:
        return NodeChoice(free[0].name)
    if not here:
        return NodeChoice(None)  # no member here and no node known to fit: the cluster's allocator picks
    if hints.strict:
        return None
    fewest = sorted(roomiest, key=lambda n: here.get(n.name, 0))
    return NodeChoice(fewest[0].name if fewest else None, broken=True)


def rank_with_hints(
    caps: Iterable[ClusterCapacity],
    nodes: dict[object, Sequence[NodeCapacity]],
    request: Request,
    hints: NodeHints,
    *,
    cpu_ratio: float = DEFAULT_CPU_RATIO,
) -> list[tuple[ClusterCapacity, NodeChoice]]:
    """The clusters that can take `request` with their node choice: those keeping the hints first,
    then by score (clusters where a strict hint cannot be kept are left out). `nodes` by cap.key."""
    chosen = []
    for cap in rank(caps, request, cpu_ratio=cpu_ratio):
        choice = pick_node(cap.name, nodes.get(cap.key, ()), request, hints)
        if choice is not None:
            chosen.append((cap, choice))
    return sorted(chosen, key=lambda pair: pair[1].broken)  # stable: keeps the score order
