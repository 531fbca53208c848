"""`manage.py console_proxy`: the websocket proxy between noVNC and the VNC consoles of servers.

    manage.py console_proxy [--bind 127.0.0.1] [--port N] [--max-connections 100]

The port defaults to PORTAL_CONSOLE_PORT (6080). Serves until SIGTERM/SIGINT; the logic is in
compute/console_proxy.py, the setup in docs/compute.md ("Consoles").
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compute import console_proxy


class Command(BaseCommand):
    help = "Run the console proxy: noVNC websockets (ws://HOST:PORT/?token=...) to the servers' VNC consoles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=None, help="port (default PORTAL_CONSOLE_PORT, 6080)")
        parser.add_argument("--max-connections", type=int, default=100, help="open consoles at most (100)")

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        if port is None:
            port = settings.PORTAL_CONSOLE_PORT
        if not 0 < port < 65536 or options["max_connections"] < 1:
            raise CommandError("--port must be 1-65535 and --max-connections at least 1")
        proxy = console_proxy.ConsoleProxy(max_connections=options["max_connections"])
        try:
            asyncio.run(console_proxy.run(proxy, options["bind"], port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['bind']}:{port}: {exc}") from exc
