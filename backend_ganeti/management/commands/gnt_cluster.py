"""`manage.py gnt_cluster`: add, list, inspect, drain/offline and remove the clusters Nefos drives.

Like `gnt-cluster`, but over every cluster the portal knows. A cluster's password is read from a
file (`--password-file`) or prompted for, never taken on the command line and never printed.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from backend_ganeti import selectors
from backend_ganeti.management.cli import GntCommand
from backend_ganeti.management.tables import Column, Kind, add_table_arguments, render_from_options
from backend_ganeti.models import Cluster
from backend_ganeti.services import clusters as cluster_service
from portal.errors import DomainError

COLUMNS = [
    Column("name", "Cluster", lambda c: c.name),
    Column("kind", "Kind", lambda c: c.kind),
    Column("state", "State", lambda c: c.state),
    Column("reachable", "Reachable", lambda c: c.reachable),
    Column("public", "Public", lambda c: c.public),
    Column("nodes", "Nodes", lambda c: c.node_count, Kind.NUMBER),
    Column("instances", "Inst", lambda c: c.instance_count, Kind.NUMBER),
    Column("mtotal", "MTotal", lambda c: c.mem_total_mb, Kind.SIZE),
    Column("mfree", "MFree", lambda c: c.mem_free_mb, Kind.SIZE),
    Column("dtotal", "DTotal", lambda c: c.disk_total_mb, Kind.SIZE),
    Column("dfree", "DFree", lambda c: c.disk_free_mb, Kind.SIZE),
    Column("ctotal", "CTotal", lambda c: c.cpu_total, Kind.NUMBER),
    Column("cused", "CUsed", lambda c: c.cpu_used, Kind.NUMBER),
    Column("hypervisor", "Hypervisor", lambda c: c.hypervisor),
    Column("version", "Version", lambda c: c.software_version),
    Column("endpoint", "Endpoint", lambda c: c.endpoint),
    Column("jobs", "Jobs", lambda c: c.active_job_count, Kind.NUMBER),
]
DEFAULT = ["name", "kind", "state", "reachable", "nodes", "instances", "mtotal", "mfree", "dtotal", "dfree"]

# subcommand -> the admin state it sets
STATE_COMMANDS = {
    "drain": (Cluster.State.DRAINED, "Cluster {name} is drained: it takes no new instances."),
    "undrain": (Cluster.State.ENABLED, "Cluster {name} is enabled."),
    "offline": (Cluster.State.OFFLINE, "Cluster {name} is offline: no operation is sent to it."),
    "online": (Cluster.State.ENABLED, "Cluster {name} is enabled."),
}


class RefusePassword(argparse.Action):
    """`--password VALUE` is refused without echoing VALUE (argparse would repeat an unknown option's value)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        parser.error("a password is never taken on the command line: use --password-file FILE or the prompt.")


def read_password(options: dict[str, Any]) -> str:
    """The password from `--password-file` (first line), else a prompt when a user name is given."""
    path = options.get("password_file")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read the password file {path}: {exc.strerror}.") from exc
        return text.splitlines()[0] if text else ""
    if options.get("username"):
        return getpass.getpass(f"RAPI password for {options['username']}: ")
    return ""


class Command(GntCommand):
    """Cluster administration."""

    help = "Manage clusters: add, list, info, drain, undrain, offline, online, refresh, remove."

    def add_subcommands(self, subparsers: Any) -> None:
        add = self.subcommand(subparsers, "add", self.add, "Register a cluster (contacts it, then refreshes).")
        add.add_argument("name", help="Short name of the cluster in the portal.")
        add.add_argument("--kind", required=True, choices=Cluster.Kind.values)
        add.add_argument("--endpoint", required=True, help="RAPI URL (https://host:5080) or the libvirt host URI.")
        add.add_argument("--username", default="", help="RAPI user.")
        add.add_argument("--password-file", default=None, help="File whose first line is the RAPI password.")
        add.add_argument("--password", nargs="?", action=RefusePassword, help=argparse.SUPPRESS)
        add.add_argument("--ca-file", default="", help="PEM file to verify the cluster's TLS certificate.")
        add.add_argument("--private", action="store_true", help="Only assigned projects may use it.")
        add.add_argument("--disk-templates", default="", help="Allowed disk templates, comma-separated.")

        listing = self.subcommand(subparsers, "list", self.list_, "List clusters with their capacity.")
        add_table_arguments(listing, COLUMNS, DEFAULT)

        info = self.subcommand(subparsers, "info", self.info, "Show one cluster.")
        info.add_argument("name")
        for name in STATE_COMMANDS:
            sub = self.subcommand(subparsers, name, self.set_state, f"Set the cluster {name}.")
            sub.add_argument("name")
            sub.set_defaults(state_command=name)

        refresh = self.subcommand(subparsers, "refresh", self.refresh, "Re-read nodes and capacity from the cluster.")
        target = refresh.add_mutually_exclusive_group(required=True)
        target.add_argument("name", nargs="?")
        target.add_argument("--all", action="store_true", help="Refresh every cluster that is not offline.")

        remove = self.subcommand(subparsers, "remove", self.remove, "Forget a cluster that has no instances.")
        remove.add_argument("name")

    def add(self, options: dict[str, Any]) -> None:
        """Register a cluster."""
        templates = tuple(t.strip() for t in options["disk_templates"].split(",") if t.strip())
        cluster = cluster_service.add_cluster(
            name=options["name"],
            kind=options["kind"],
            endpoint=options["endpoint"],
            username=options["username"],
            password=read_password(options),
            ca_file=options["ca_file"],
            public=not options["private"],
            disk_templates=templates,
            actor=self.actor,
        )
        nodes = cluster.nodes.count()
        self.stdout.write(
            f"Cluster {cluster.name} added ({cluster.kind}, {nodes} node{'s' if nodes != 1 else ''}, "
            f"state {cluster.state})."
        )

    def list_(self, options: dict[str, Any]) -> None:
        """The cluster table."""
        self.lines(render_from_options(COLUMNS, DEFAULT, selectors.clusters(), options))

    def info(self, options: dict[str, Any]) -> None:
        """Everything the portal knows about one cluster (never its password)."""
        cluster = selectors.cluster_named(options["name"])
        projects = ", ".join(p.name for p in cluster.projects.order_by("name"))
        self.pairs(
            [
                ("Cluster name", cluster.name),
                ("Kind", cluster.get_kind_display()),
                ("Endpoint", cluster.endpoint),
                ("RAPI user", cluster.username or "(none)"),
                ("CA file", cluster.ca_file or "(system trust store)"),
                ("State", cluster.state),
                ("Visibility", "public" if cluster.public else f"private: {projects or 'no projects'}"),
                ("Disk templates", ", ".join(cluster.disk_templates) or "(all the cluster enables)"),
                ("Hypervisor", cluster.hypervisor or "?"),
                ("Software version", cluster.software_version or "?"),
                ("Reachable", "yes" if cluster.reachable else "no"),
                ("Last error", cluster.last_error or "-"),
                ("Last seen", cluster.last_seen.isoformat() if cluster.last_seen else "never"),
            ]
        )
        self.stdout.write("Capacity:")
        self.pairs(
            [
                ("memory (MiB)", f"{cluster.mem_free_mb} free of {cluster.mem_total_mb}"),
                ("disk (MiB)", f"{cluster.disk_free_mb} free of {cluster.disk_total_mb}"),
                ("vcpus", f"{cluster.cpu_used} used of {cluster.cpu_total}"),
                (
                    "reserved",
                    f"{cluster.reserved_mem_mb} MiB memory, {cluster.reserved_disk_mb} MiB disk, "
                    f"{cluster.reserved_cpu} vcpus",
                ),
            ],
            indent=2,
        )
        groups = ", ".join(g.name for g in cluster.groups.all()) or "-"
        self.pairs(
            [
                ("Node groups", groups),
                ("Nodes", cluster.node_count),
                ("Instances", cluster.instance_count),
                ("Unfinished jobs", cluster.active_job_count),
            ]
        )

    def set_state(self, options: dict[str, Any]) -> None:
        """drain / undrain / offline / online."""
        state, message = STATE_COMMANDS[options["state_command"]]
        cluster = selectors.cluster_named(options["name"])
        cluster = cluster_service.set_cluster_state(cluster, state, actor=self.actor)
        self.stdout.write(message.format(name=cluster.name))

    def refresh(self, options: dict[str, Any]) -> None:
        """Sync one cluster, or every cluster that is not offline (reporting each)."""
        if options["all"]:
            targets = list(Cluster.objects.exclude(state=Cluster.State.OFFLINE).order_by("name"))
        else:
            targets = [selectors.cluster_named(options["name"])]
        failed = []
        for cluster in targets:
            try:
                cluster = cluster_service.refresh_cluster(cluster)
            except DomainError as exc:
                failed.append(cluster.name)
                self.stderr.write(f"{cluster.name}: {exc.message}")
                continue
            self.stdout.write(
                f"{cluster.name}: {cluster.nodes.count()} nodes, memory {cluster.mem_free_mb}/{cluster.mem_total_mb} "
                f"MiB free, disk {cluster.disk_free_mb}/{cluster.disk_total_mb} MiB free."
            )
        if failed:
            raise CommandError(f"Could not refresh: {', '.join(failed)}.")

    def remove(self, options: dict[str, Any]) -> None:
        """Forget a cluster (the service refuses while it has instances)."""
        cluster = selectors.cluster_named(options["name"])
        cluster_service.remove_cluster(cluster, actor=self.actor)
        self.stdout.write(f"Cluster {options['name']} removed.")
