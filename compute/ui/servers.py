"""Server pages: the paged, filtered list (polling only while a shown server is moving) and one
server's details with its actions (start, stop, reboot, resize and its confirmation, delete),
each confirmed first. Reads go through `compute.services.listing`; actions call
`compute.services.actions` / `servers`, and a refusal (wrong state, over quota) is a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from compute.image.models import Image
from compute.models import Server
from compute.services import actions
from compute.services import servers as server_service
from compute.services.listing import ServerQuery, list_servers
from compute.services.states import Action
from compute.ui import scope
from compute.ui.addresses import addresses_for
from compute.ui.forms import ResizeForm, ServerFilterForm
from compute.ui.status import ServerView, allowed, available_actions
from identity.tokens import TokenContext
from portal.errors import DomainError
from portal.ui.nav import render_page

PAGE_SIZE = 50
POLL_SECONDS = 3


def _query(form: ServerFilterForm, marker: str | None) -> ServerQuery:
    name = status = None
    if form.is_valid():
        # The listing filters by regular expression; the dashboard offers a plain "contains".
        name = f"(?i){re.escape(form.cleaned_data['name'])}" if form.cleaned_data["name"] else None
        status = form.cleaned_data["status"] or None
    return ServerQuery(name=name, statuses=(status,) if status else (), limit=PAGE_SIZE + 1, marker=marker or None)


@login_required
@require_GET
def server_list(request: HttpRequest) -> HttpResponse:
    """The current project's servers, newest first, 50 a page (keyset paging with `?marker=`)."""
    project = scope.project_of(request)
    ctx = scope.ctx_for(request, project)
    form = ServerFilterForm(request.GET or None)
    marker = request.GET.get("marker", "")
    try:
        rows = list_servers(ctx, _query(form, marker))
    except DomainError as exc:  # a marker that is no longer there: start again from the top
        scope.report(request, exc)
        rows = list_servers(ctx, _query(form, None))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    addresses = addresses_for(str(row.id) for row in rows)
    servers = [ServerView(row, addresses.get(str(row.id))) for row in rows]
    params = request.GET.copy()
    params.pop("marker", None)
    if more:
        params["marker"] = str(rows[-1].id)
    context = {
        "servers": servers,
        "filter": {"form": form},
        "next_query": params.urlencode() if more else "",
        "first_query": "" if not marker else _without_marker(request),
        "paged": bool(marker),
        "polling": any(s.transitional for s in servers),
        "poll_seconds": POLL_SECONDS,
        "can_write": scope.can_write(request, project),
    }
    if scope.wants_partial(request):
        return render(request, "compute/_server_rows.html", context)
    return render_page(request, "compute/servers.html", context)


def _without_marker(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("marker", None)
    return params.urlencode()


def _image_name(image_id: str) -> str:
    if not image_id:
        return ""
    return Image.objects.filter(pk=image_id).values_list("name", flat=True).first() or image_id


def _console_url(request: HttpRequest, server: Server) -> str:
    """The console page link, or "" when the server has no console now."""
    if not allowed(Action.CONSOLE, server):
        return ""
    base = request.build_absolute_uri("/").rstrip("/")
    try:
        return actions.console_url(server, kind="novnc", is_admin=False, base=base)
    except DomainError:
        return ""


@login_required
@require_GET
def server_detail(request: HttpRequest, server_id: str) -> HttpResponse:
    """One server: status, flavor, image, addresses, fault, actions and the console link."""
    project = scope.project_of(request)
    server = scope.server_of(project, server_id)
    view = ServerView(server, addresses_for([str(server.pk)]).get(str(server.pk)))
    can_write = scope.can_write(request, project)
    context = {
        "server": view,
        "image_name": _image_name(server.image_id),
        "actions": [(a, SERVER_ACTIONS[a]) for a in available_actions(server)] if can_write else [],
        "console_url": _console_url(request, server) if can_write else "",
        "poll_seconds": POLL_SECONDS,
        "can_write": can_write,
    }
    if scope.wants_partial(request):
        return render(request, "compute/_server_panel.html", context)
    return render_page(request, "compute/server_detail.html", context)


# --- actions --------------------------------------------------------------------------------------

Runner = Callable[[Server, TokenContext, Any, dict[str, Any]], None]


@dataclass(frozen=True)
class ServerAction:
    """A button on the server page: its URL name, question, explanation, colour and service call."""

    slug: str
    label: str
    question: str
    explain: str
    style: str
    run: Runner
    needs_flavor: bool = False


SERVER_ACTIONS: dict[Action, ServerAction] = {
    Action.START: ServerAction(
        "start", "Start", "Start {name}?", "The server powers on.", "success",
        lambda s, ctx, user, _: actions.start_server(s, is_admin=ctx.is_admin, actor=user),
    ),
    Action.STOP: ServerAction(
        "stop", "Stop", "Stop {name}?", "The guest is shut down; its disks and addresses are kept.", "warning",
        lambda s, ctx, user, _: actions.stop_server(s, is_admin=ctx.is_admin, actor=user),
    ),
    Action.REBOOT: ServerAction(
        "reboot", "Reboot", "Reboot {name}?", "The guest restarts (a soft reboot).", "warning",
        lambda s, ctx, user, _: actions.reboot_server(s, hard=False, is_admin=ctx.is_admin, actor=user),
    ),
    Action.REBOOT_HARD: ServerAction(
        "reboot-hard", "Hard reboot", "Hard reboot {name}?",
        "The server is reset like a power cycle: unsaved data in the guest is lost.", "danger",
        lambda s, ctx, user, _: actions.reboot_server(s, hard=True, is_admin=ctx.is_admin, actor=user),
    ),
    Action.RESIZE: ServerAction(
        "resize", "Resize", "Resize {name}?",
        "The server moves to another flavor; you confirm or revert the new size afterwards. "
        "The difference counts against the project's quota.", "primary",
        lambda s, ctx, user, data: actions.resize_server(s, data["flavor"], ctx=ctx, actor=user),
        needs_flavor=True,
    ),
    Action.CONFIRM_RESIZE: ServerAction(
        "confirm-resize", "Confirm resize", "Keep the new size of {name}?", "The old flavor is forgotten.", "success",
        lambda s, ctx, user, _: actions.confirm_resize(s, is_admin=ctx.is_admin, actor=user),
    ),
    Action.REVERT_RESIZE: ServerAction(
        "revert-resize", "Revert resize", "Go back to the old size of {name}?",
        "vCPUs and RAM return to the old flavor (a grown disk keeps its size).", "warning",
        lambda s, ctx, user, _: actions.revert_resize(s, is_admin=ctx.is_admin, actor=user),
    ),
    Action.DELETE: ServerAction(
        "delete", "Delete", "Delete {name}?",
        "The server and its disks are destroyed (attached volumes are detached first and kept); "
        "its quota is given back. This cannot be undone.", "danger",
        lambda s, ctx, user, _: server_service.delete_server(s, is_admin=ctx.is_admin, actor=user),
    ),
}  # fmt: skip
ACTIONS_BY_SLUG = {spec.slug: (action, spec) for action, spec in SERVER_ACTIONS.items()}


@login_required
@require_http_methods(["GET", "POST"])
def server_action(request: HttpRequest, server_id: str, slug: str) -> HttpResponse:
    """GET: the confirmation page (with the flavor choice for a resize). POST: run the action."""
    if slug not in ACTIONS_BY_SLUG:
        raise Http404("Unknown action")
    action, spec = ACTIONS_BY_SLUG[slug]
    project = scope.project_of(request)
    scope.require_write(request, project)
    server = scope.server_of(project, server_id)
    ctx = scope.ctx_for(request, project)
    form = ResizeForm(request.POST or None, ctx=ctx, current=server.flavor_id) if spec.needs_flavor else None
    detail = reverse("cloud_server", args=[server.pk])
    status = 200
    if request.method == "POST":
        if form is None or form.is_valid():
            try:
                spec.run(server, ctx, request.user, form.cleaned_data if form is not None else {})
            except DomainError as exc:
                scope.report(request, exc)
            else:
                messages.success(request, f"{spec.label}: {server.name} — requested.")
                if action == Action.DELETE:
                    return redirect("cloud_servers")
            return redirect(detail)
        status = 400
    context = {"spec": spec, "question": spec.question.format(name=server.name), "server": server, "form": form}
    return render_page(request, "compute/confirm.html", context, status=status)
