"""Console links: a signed, short-lived URL of the server's console page, and where it connects.

The API answers `os-getVNCConsole` / `remote-consoles` with `<base>/compute/console?token=...`.
The token (Django's signer, salted, valid CONSOLE_TTL seconds) names the server. The page runs
noVNC, which opens `<proxy>/?token=...` on the console proxy (`manage.py console_proxy`,
compute/console_proxy.py); the proxy checks the same token and asks backend_ganeti where the
console listens at the moment the websocket is opened (`console_endpoint`), then relays bytes.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
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


def console_endpoint(token: str) -> tuple[Server, ConsoleInfo]:
    """The server a console token names and where its console listens now (the proxy's check).

    NotFound for a bad, expired or stale token; InvalidState when the server is not running;
    backend_ganeti's ClusterOffline / ClusterError when its cluster cannot say.
    """
    server, _ = server_for_token(token)
    return server, console_info(server)


def proxy_url(token: str, *, secure: bool, host: str) -> str:
    """The websocket URL of the console proxy for `token`.

    PORTAL_CONSOLE_URL when set (e.g. `wss://console.example.org/`, behind a TLS proxy); else
    the page's own host name on PORTAL_CONSOLE_PORT, `wss` when the page came over https.
    """
    configured = settings.PORTAL_CONSOLE_URL.rstrip("/")
    if not configured:
        port = settings.PORTAL_CONSOLE_PORT
        hostname = urlsplit(f"//{host}").hostname or "127.0.0.1"
        if ":" in hostname:
            hostname = f"[{hostname}]"
        configured = f"{'wss' if secure else 'ws'}://{hostname}:{port}"
    return f"{configured}/?{urlencode({'token': token})}"
