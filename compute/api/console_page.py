"""`GET /compute/console?token=...`: the page a console URL opens (the signed token is the access).

It checks the token and that the server's console can be had now (backend_ganeti), then renders
templates/compute/console.html: noVNC (npm `@novnc/novnc`, served from static/vendor/) connects
to the console proxy (`manage.py console_proxy`) with the same token. On the simulated host the
page repeats the host's note that nothing listens on the console port.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from backend_ganeti.errors import ClusterError, ClusterOffline
from compute.services import consoles
from portal.errors import InvalidState, NotFound


class ConsolePageView(View):
    """The console page of a server."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render the page, or a short error page (404 bad link, 409 not running, 503 cluster down)."""
        token = request.GET.get("token", "")
        try:
            server, kind = consoles.server_for_token(token)
            info = consoles.console_info(server)
        except NotFound as exc:
            return HttpResponse(exc.message, status=404, content_type="text/plain; charset=utf-8")
        except (InvalidState, ClusterOffline) as exc:
            return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")
        except ClusterError as exc:
            return HttpResponse(exc.message, status=503, content_type="text/plain; charset=utf-8")
        context = {
            "server": server,
            "kind": kind,
            "proxy_url": consoles.proxy_url(token, secure=request.is_secure(), host=request.get_host()),
            "note": str(info.extra.get("note", "")) if info.extra.get("simulated") else "",
        }
        response = render(request, "compute/console.html", context)
        # The URL carries the token: keep the page out of caches.
        response["Cache-Control"] = "no-store"
        return response
