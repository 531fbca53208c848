"""`manage.py gnt_node`: the nodes of every cluster (`gnt-node list` columns), evacuate, drain, undrain.

Capacity comes from the last refresh of each cluster (`gnt_cluster refresh`); actions submit a
job through the services and print its id for `gnt_job info`.
"""

from __future__ import annotations

from typing import Any

from backend_ganeti import selectors
from backend_ganeti.management.cli import GntCommand, cluster_option
from backend_ganeti.management.tables import OFFLINE, Column, Kind, add_table_arguments, render_from_options
from backend_ganeti.models import Node
from backend_ganeti.services import operations

EVACUATE_MODES = ("all", "primary-only", "secondary-only")


def capacity(node: Node, value: int | None) -> int | str | None:
    """A capacity value, or Ganeti's `*` when an offline node could not report it."""
    if value is None and node.offline:
        return OFFLINE
    return value


COLUMNS = [
    Column("node", "Node", lambda n: n.name),
    Column("cluster", "Cluster", lambda n: n.cluster.name),
    Column("group", "Group", lambda n: n.group.name if n.group_id else ""),
    Column("role", "Role", lambda n: n.role),
    Column("dtotal", "DTotal", lambda n: capacity(n, n.dtotal), Kind.SIZE),
    Column("dfree", "DFree", lambda n: capacity(n, n.dfree), Kind.SIZE),
    Column("mtotal", "MTotal", lambda n: capacity(n, n.mtotal), Kind.SIZE),
    Column("mfree", "MFree", lambda n: capacity(n, n.mfree), Kind.SIZE),
    Column("ctotal", "CTotal", lambda n: capacity(n, n.ctotal), Kind.NUMBER),
    Column("pinst", "Pinst", lambda n: n.pinst_cnt, Kind.NUMBER),
    Column("sinst", "Sinst", lambda n: n.sinst_cnt, Kind.NUMBER),
    Column("drained", "Drained", lambda n: n.drained),
    Column("offline", "Offline", lambda n: n.offline),
    Column("vm_capable", "VMCapable", lambda n: n.vm_capable),
    Column("address", "Address", lambda n: n.address),
]
DEFAULT = ["node", "dtotal", "dfree", "mtotal", "mfree", "pinst", "sinst"]


class Command(GntCommand):
    """Node administration."""

    help = "Manage nodes: list, evacuate, drain, undrain."

    def add_subcommands(self, subparsers: Any) -> None:
        listing = self.subcommand(subparsers, "list", self.list_, "List nodes like gnt-node list.")
        listing.add_argument("--cluster", default=None, help="Only this cluster's nodes.")
        add_table_arguments(listing, COLUMNS, DEFAULT)

        evacuate = self.subcommand(subparsers, "evacuate", self.evacuate, "Move every instance off a node.")
        evacuate.add_argument("cluster")
        evacuate.add_argument("node")
        evacuate.add_argument("--mode", choices=EVACUATE_MODES, default="all", help="Which instances to move.")

        for name, drained in (("drain", True), ("undrain", False)):
            sub = self.subcommand(
                subparsers,
                name,
                self.set_drained,
                "Stop placing instances on a node." if drained else "Allow instances on a node again.",
            )
            sub.add_argument("cluster")
            sub.add_argument("node")
            sub.set_defaults(drained=drained)

    def list_(self, options: dict[str, Any]) -> None:
        """The node table; across clusters it starts with the cluster's name."""
        cluster = cluster_option(options)
        default = DEFAULT if cluster is not None else ["cluster", *DEFAULT]
        self.lines(render_from_options(COLUMNS, default, selectors.nodes(cluster=cluster), options))

    def _node(self, options: dict[str, Any]) -> Node:
        return selectors.node_named(selectors.cluster_named(options["cluster"]), options["node"])

    def evacuate(self, options: dict[str, Any]) -> None:
        """Submit a node evacuation."""
        job = operations.evacuate_node(self._node(options), mode=options["mode"], actor=self.actor)
        self.submitted(job)

    def set_drained(self, options: dict[str, Any]) -> None:
        """Submit a drain or undrain of a node."""
        job = operations.set_node_drained(self._node(options), options["drained"], actor=self.actor)
        self.submitted(job)
