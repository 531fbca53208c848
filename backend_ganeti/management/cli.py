"""Plumbing shared by the gnt_* management commands: subcommands, error mapping, job messages.

Each command declares its subcommands with a handler each (`set_defaults(run=...)`, no lookup
by name). Domain errors from selectors and services become `CommandError` with the service's
message, so the exit status is non-zero and no traceback is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend_ganeti import selectors
from backend_ganeti.models import Cluster, Job
from backend_ganeti.rapi.errors import RapiError
from portal.errors import DomainError

Handler = Callable[[dict[str, Any]], None]


class GntCommand(BaseCommand):
    """A gnt-*-like command: `manage.py gnt_x SUBCOMMAND [options]`."""

    # Services record the command line as the system (no portal user behind it).
    actor = None

    def add_subcommands(self, subparsers: Any) -> None:
        """Declare the subcommands (override): `self.subcommand(subparsers, name, handler, help)`."""
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        self.add_subcommands(subparsers)

    def subcommand(self, subparsers: Any, name: str, handler: Handler, help_text: str) -> CommandParser:
        """Add one subcommand whose options reach `handler`."""
        # No abbreviations: `--password x` must not pass for `--password-file x` (and echo x in an error).
        sub = subparsers.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        sub.set_defaults(run=handler)
        return sub

    def handle(self, *args: Any, **options: Any) -> None:
        run: Handler = options["run"]
        try:
            run(options)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except RapiError as exc:  # a service that let a cluster error through: still a clear message
            raise CommandError(f"Cluster error: {exc}") from exc

    # --- output helpers ---------------------------------------------------------------------------
    def lines(self, lines: list[str]) -> None:
        """Write lines to stdout."""
        for line in lines:
            self.stdout.write(line)

    def pairs(self, pairs: list[tuple[str, Any]], indent: int = 0) -> None:
        """Write `Key: value` lines like `gnt-cluster info`."""
        pad = " " * indent
        for key, value in pairs:
            self.stdout.write(f"{pad}{key}: {'' if value is None else value}")

    def submitted(self, job: Job) -> None:
        """Tell the admin which job follows their request, and how to watch it."""
        self.stdout.write(
            f"Job {job.pk} submitted: {job.operation} {job.target} on cluster {job.cluster.name} "
            f"(status {job.status}). Follow it with: manage.py gnt_job info {job.pk}"
        )


def cluster_option(options: dict[str, Any]) -> Cluster | None:
    """The cluster `--cluster` names, or None."""
    name = options.get("cluster")
    return selectors.cluster_named(name) if name else None


def require(condition: bool, message: str) -> None:
    """Raise a CommandError with `message` unless `condition` holds."""
    if not condition:
        raise CommandError(message)
