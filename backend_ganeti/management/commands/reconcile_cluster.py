"""`manage.py reconcile_cluster [NAME ...|--all] [--dry-run]`: compare clusters with the database.

Prints, per cluster, the instances missing on the cluster, unknown to the database and out of
sync (field by field). Without `--dry-run` the differences are fixed through the same event path
the job watcher uses, and an audit record is written. The exit status is non-zero when a named
cluster could not be reconciled.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend_ganeti.models import Cluster
from backend_ganeti.services import reconcile
from portal.errors import DomainError


class Command(BaseCommand):
    """Reconcile named clusters, or every cluster that is not offline."""

    help = "Compare clusters with the database and fix the differences (or only report them with --dry-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="clusters to reconcile")
        parser.add_argument("--all", action="store_true", help="every cluster that is not offline")
        parser.add_argument("--dry-run", action="store_true", help="report only; change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["names"]
        if bool(names) == bool(options["all"]):
            raise CommandError("Name one or more clusters, or give --all.")
        if options["all"]:
            clusters = list(Cluster.objects.exclude(state=Cluster.State.OFFLINE).order_by("name"))
        else:
            found = {c.name: c for c in Cluster.objects.filter(name__in=names)}
            unknown = [name for name in names if name not in found]
            if unknown:
                raise CommandError(f"Unknown cluster(s): {', '.join(unknown)}.")
            clusters = [found[name] for name in names]
        failures = []
        for cluster in clusters:
            try:
                report = reconcile.reconcile_cluster(cluster, dry_run=options["dry_run"], actor=None)
            except DomainError as exc:
                failures.append(cluster.name)
                self.stderr.write(f"Cluster {cluster.name}: not reconciled: {exc.message}")
                continue
            for line in report.lines():
                self.stdout.write(line)
        if failures:
            raise CommandError(f"Could not reconcile: {', '.join(failures)}.")
