"""Console links: a signed, short-lived URL of the server's console page, and what it shows.

The API answers `os-getVNCConsole` / `remote-consoles` with `<base>/compute/console?token=...`.
The token (Django's signer, salted, valid CONSOLE_TTL seconds) names the server; the page asks
backend_ganeti where the console listens at the moment it is opened. A noVNC client with a
websocket proxy to that address is the next step (see docs/compute.md): the page says so.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core import signing

from backend_ganeti.drivers.types import ConsoleInfo
from backend_ganeti.services import operations
from compute.models import Server
from portal.errors import InvalidState, NotFound

SALT = "compute.console"
CONSOLE_TTL = 600


def console_url(server: Server, *, kind: str, base: str) -> str:
    """The console page URL for `server` (`kind`: novnc, xvpvnc...)."""
    token = signing.dumps({"s": str(server.pk), "k": kind}, salt=SALT, compress=True)
    return f"{base}/compute/console?{urlencode({'token': token})}"


def server_for_token(token: str) -> tuple[Server, str]:
    """The server a console token names, and the console kind; NotFound for a bad or expired token."""
    try:
        data = signing.loads(token, salt=SALT, max_age=CONSOLE_TTL)
    except signing.BadSignature:
        raise NotFound("The console link is invalid or has expired.") from None
    server = Server.objects.live().select_related("instance").filter(pk=data.get("s")).first()
    if server is None or server.instance is None:
        raise NotFound("The console link is invalid or has expired.")
    return server, str(data.get("k", "novnc"))


def console_info(server: Server) -> ConsoleInfo:
    """Where the server's console listens now (asks its cluster); InvalidState when it is not running."""
    if server.instance is None:
        raise InvalidState(f"Instance {server.pk} is not ready")
    return operations.console_info(server.instance)
