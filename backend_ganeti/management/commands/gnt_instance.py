"""`manage.py gnt_instance`: list and inspect instances on every cluster; migrate, failover, power them.

Names may repeat across clusters: give `cluster/name`, or `--cluster`; an ambiguous bare name is
refused with the clusters it was found on. Actions submit a job and print its id.
"""

from __future__ import annotations

from typing import Any

from backend_ganeti import selectors
from backend_ganeti.management.cli import GntCommand, cluster_option
from backend_ganeti.management.tables import Column, Kind, add_table_arguments, render_from_options
from backend_ganeti.models import Instance
from backend_ganeti.services import operations

COLUMNS = [
    Column("name", "Instance", lambda i: i.name),
    Column("cluster", "Cluster", lambda i: i.cluster.name),
    Column("hypervisor", "Hypervisor", lambda i: i.cluster.hypervisor),
    Column("os", "OS", lambda i: i.os),
    Column("pnode", "Primary_node", lambda i: i.primary_node),
    Column("snodes", "Secondary_Nodes", lambda i: i.secondary_nodes),
    Column("status", "Status", lambda i: i.status),
    Column("admin_up", "Admin_up", lambda i: i.admin_up),
    Column("memory", "Memory", lambda i: i.memory_mb, Kind.SIZE),
    Column("vcpus", "VCPUs", lambda i: i.vcpus, Kind.NUMBER),
    Column("disk_template", "Disk_template", lambda i: i.disk_template),
    Column("project", "Project", lambda i: i.project.name if i.project_id else ""),
    Column("owner", "Owner", lambda i: i.owner_ref),
]
DEFAULT = ["name", "cluster", "os", "pnode", "status", "memory"]


class Command(GntCommand):
    """Instance administration."""

    help = "Manage instances: list, info, migrate, failover, start, stop, reboot."

    def add_subcommands(self, subparsers: Any) -> None:
        listing = self.subcommand(subparsers, "list", self.list_, "List instances like gnt-instance list.")
        listing.add_argument("--cluster", default=None, help="Only this cluster's instances.")
        listing.add_argument("--status", default=None, choices=Instance.Status.values)
        listing.add_argument("--project", default=None, help="Only this project's instances (id or name).")
        add_table_arguments(listing, COLUMNS, DEFAULT)

        info = self._with_name(self.subcommand(subparsers, "info", self.info, "Show one instance."))
        info.add_argument("--jobs", type=int, default=5, help="How many recent jobs to show.")

        migrate = self._with_name(self.subcommand(subparsers, "migrate", self.migrate, "Live-migrate an instance."))
        migrate.add_argument("--target-node", default=None, help="Node to move to (default: the allocator's).")
        migrate.add_argument("--non-live", action="store_true", help="Shut down, move, start (non-live).")

        failover = self._with_name(
            self.subcommand(subparsers, "failover", self.failover, "Restart an instance on its secondary node.")
        )
        failover.add_argument("--target-node", default=None, help="Node to restart on (shared storage only).")

        self._with_name(self.subcommand(subparsers, "start", self.start, "Start an instance."))
        stop = self._with_name(self.subcommand(subparsers, "stop", self.stop, "Shut down an instance."))
        stop.add_argument("--timeout", type=int, default=None, help="Seconds before a hard power-off.")
        reboot = self._with_name(self.subcommand(subparsers, "reboot", self.reboot, "Reboot an instance."))
        reboot.add_argument("--hard", action="store_true", help="Power-cycle instead of a soft reboot.")

    @staticmethod
    def _with_name(parser: Any) -> Any:
        parser.add_argument("name", help="Instance name, or cluster/name.")
        parser.add_argument("--cluster", default=None, help="The instance's cluster (when the name is ambiguous).")
        return parser

    def _instance(self, options: dict[str, Any]) -> Instance:
        return selectors.resolve_instance(options["name"], cluster=cluster_option(options))

    def list_(self, options: dict[str, Any]) -> None:
        """The instance table."""
        project = options.get("project")
        rows = selectors.instances(
            cluster=cluster_option(options),
            status=options.get("status"),
            project_id=selectors.project_id_for(project) if project else None,
        )
        self.lines(render_from_options(COLUMNS, DEFAULT, rows, options))

    def info(self, options: dict[str, Any]) -> None:
        """Everything the portal knows about one instance, with its recent jobs."""
        instance = self._instance(options)
        self.pairs(
            [
                ("Instance name", instance.name),
                ("Cluster", instance.cluster.name),
                ("Project", f"{instance.project.name} ({instance.project_id})" if instance.project_id else "-"),
                ("Owner", instance.owner_ref or "-"),
                ("Status", instance.status),
                ("Admin state", "up" if instance.admin_up else "down"),
                ("Primary node", instance.primary_node or "-"),
                ("Secondary nodes", ", ".join(instance.secondary_nodes) or "-"),
                ("OS", instance.os or "-"),
                ("VCPUs", instance.vcpus),
                ("Memory", f"{instance.memory_mb} MiB"),
                ("Disk template", instance.disk_template or "-"),
            ]
        )
        self.stdout.write("Disks:")
        for index, disk in enumerate(instance.disks or []):
            self.stdout.write(f"  disk/{index}: {_describe(disk)}")
        self.stdout.write("NICs:")
        for index, nic in enumerate(instance.nics or []):
            self.stdout.write(f"  nic/{index}: {_describe(nic)}")
        self.pairs(
            [
                ("Fault", instance.fault or "-"),
                ("Progress", f"{instance.progress}%" if instance.progress is not None else "-"),
                ("Created", instance.created_at.isoformat()),
                ("Updated", instance.updated_at.isoformat()),
            ]
        )
        self.stdout.write("Recent jobs:")
        for job in selectors.jobs(instance=instance)[: max(options["jobs"], 0)]:
            self.stdout.write(f"  {job.pk} {job.operation} {job.status} {job.created_at.isoformat()}")

    def migrate(self, options: dict[str, Any]) -> None:
        """Submit a (live) migration."""
        job = operations.migrate_instance(
            self._instance(options), target_node=options["target_node"], live=not options["non_live"], actor=self.actor
        )
        self.submitted(job)

    def failover(self, options: dict[str, Any]) -> None:
        """Submit a failover."""
        job = operations.failover_instance(
            self._instance(options), target_node=options["target_node"], actor=self.actor
        )
        self.submitted(job)

    def start(self, options: dict[str, Any]) -> None:
        """Submit a start."""
        self.submitted(operations.start_instance(self._instance(options), actor=self.actor))

    def stop(self, options: dict[str, Any]) -> None:
        """Submit a shutdown."""
        self.submitted(operations.stop_instance(self._instance(options), timeout=options["timeout"], actor=self.actor))

    def reboot(self, options: dict[str, Any]) -> None:
        """Submit a reboot."""
        self.submitted(operations.reboot_instance(self._instance(options), hard=options["hard"], actor=self.actor))


def _describe(item: Any) -> str:
    """A disk or NIC dict as `key=value` pairs (sizes are MiB)."""
    if isinstance(item, dict):
        return ", ".join(f"{key}={value}" for key, value in item.items() if value not in (None, ""))
    return str(item)
