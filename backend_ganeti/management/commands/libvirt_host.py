"""`manage.py libvirt_host`: run the embedded libvirt host agent, or register it as a cluster.

    manage.py libvirt_host run --socket PATH [--state-dir DIR] [--uri qemu:///system ...] [...]
    manage.py libvirt_host register --socket PATH

`run` serves until SIGTERM/SIGINT (the logic is in backend_ganeti/libvirt_host/); `register`
records the `embedded` cluster pointing at the socket, idempotently. See docs/libvirt-host.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend_ganeti.libvirt_host import agent


class Command(BaseCommand):
    help = "Run the embedded libvirt host agent (run) or register it as the `embedded` cluster (register)."

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        run = subparsers.add_parser("run", help="serve the host agent on a Unix socket")
        agent.add_run_arguments(run, default_state_dir=Path(settings.DATA_DIR) / "libvirt-host")
        run.set_defaults(handler=self.run_agent)
        register = subparsers.add_parser("register", help="create the `embedded` cluster if missing")
        register.add_argument("--socket", required=True, type=Path, help="the agent's Unix socket")
        register.set_defaults(handler=self.register)

    def handle(self, *args: Any, **options: Any) -> None:
        options["handler"](options)

    def run_agent(self, options: dict[str, Any]) -> None:
        """Serve until stopped."""
        try:
            config = agent.config_from_options(options)
            agent.run(config)
        except agent.AgentStartError as exc:
            raise CommandError(f"libvirt host agent: {exc}") from None

    def register(self, options: dict[str, Any]) -> None:
        """Create (or point at the socket) the `embedded` cluster."""
        from backend_ganeti.services.embedded import ensure_embedded_cluster

        cluster = ensure_embedded_cluster(socket_path=Path(options["socket"]).absolute())
        self.stdout.write(f"cluster {cluster.name} ({cluster.kind}) at {cluster.endpoint}")
