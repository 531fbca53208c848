"""`GET /compute/console?token=...`: the page a console URL opens (the signed token is the access).

It asks backend_ganeti where the server's VNC console listens and says so. The in-browser noVNC
client and its websocket proxy are not built yet (docs/compute.md); the page states that plainly,
and on the simulated host it repeats the host's note that nothing listens on the port.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.views import View

from backend_ganeti.errors import ClusterError, ClusterOffline
from compute.services import consoles
from portal.errors import InvalidState, NotFound

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Console of {name}</title></head>
<body><h1>Console of {name}</h1>
<p>VNC console: <code>{host}:{port}</code> ({kind}).</p>
<p>{note}</p>
<p>The in-browser noVNC console is not available yet: connect a VNC client to the address above
from a host that can reach the cluster node.</p></body></html>"""


class ConsolePageView(View):
    """The console page of a server."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render the page, or a short error page (404 bad link, 409 not running, 503 cluster down)."""
        try:
            server, kind = consoles.server_for_token(request.GET.get("token", ""))
            info = consoles.console_info(server)
        except NotFound as exc:
            return HttpResponse(exc.message, status=404, content_type="text/plain; charset=utf-8")
        except (InvalidState, ClusterOffline) as exc:
            return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")
        except ClusterError as exc:
            return HttpResponse(exc.message, status=503, content_type="text/plain; charset=utf-8")
        note = str(info.extra.get("note", "")) if info.extra.get("simulated") else ""
        html = format_html(PAGE, name=server.name, host=info.host, port=info.port, kind=kind, note=note)
        return HttpResponse(html)
