"""Volume pages (Cinder): the paged list, create, a volume's page with extend, attach, detach and
delete, and the attached-volumes card of a server's page (loaded by htmx from the server page).

Reads are project-filtered queries (a foreign or unknown volume is a 404); every change goes
through `compute.volume.services` (volumes, attachments) and a refusal (wrong status, over quota,
a server of another cluster or template) is a message, never a 500. Lists and cards poll only
while a shown volume is transitional (`volume_forms.TRANSITIONAL`, from the state table).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compute.image.services.access import visible as visible_image
from compute.ui import scope
from compute.ui.volume_forms import (
    AttachForm,
    ExtendForm,
    VolumeCreateForm,
    VolumeView,
    attachable_servers,
    available_volumes,
)
from compute.volume.models import Volume, VolumeType
from compute.volume.services import attachments, pending
from compute.volume.services import volumes as volume_service
from compute.volume.services.listing import ATTACHED
from identity.models import Project
from portal.errors import DomainError
from portal.ui.nav import render_page, safe_next

PAGE_SIZE = 50
POLL_SECONDS = 3


def volume_of(project: Project, volume_id: str) -> Volume:
    """A volume of the project (404 for a foreign, unknown or malformed id)."""
    row = (
        Volume.objects.for_project(project.pk)
        .select_related("volume_type", "server", "cluster")
        .filter(pk=scope.as_uuid(volume_id))
        .first()
    )
    if row is None:
        raise Http404("No such volume")
    return row


def _page(project: Project, marker: str) -> tuple[list[Volume], bool]:
    """One page of the project's volumes, newest first (keyset paging: two queries at most)."""
    rows = Volume.objects.for_project(project.pk).select_related("volume_type", "server").order_by("-created_at", "-id")
    if marker:
        last = Volume.objects.for_project(project.pk).filter(pk=scope.as_uuid(marker)).first()
        if last is not None:
            rows = rows.filter(Q(created_at__lt=last.created_at) | Q(created_at=last.created_at, id__lt=last.pk))
    found = list(rows[: PAGE_SIZE + 1])
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


@login_required
@require_GET
def volume_list(request: HttpRequest) -> HttpResponse:
    """The current project's volumes, 50 a page (`?marker=`), re-fetched while one is transitional."""
    project = scope.project_of(request)
    marker = request.GET.get("marker", "")
    rows, more = _page(project, marker)
    volumes = [VolumeView(row) for row in rows]
    context = {
        "volumes": volumes,
        "next_marker": str(rows[-1].pk) if more else "",
        "paged": bool(marker),
        "polling": any(v.transitional for v in volumes),
        "poll_seconds": POLL_SECONDS,
        "can_write": scope.can_write(request, project),
    }
    if scope.wants_partial(request):
        return render(request, "compute/volumes_rows.html", context)
    return render_page(request, "compute/volumes.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def volume_create(request: HttpRequest) -> HttpResponse:
    """Create a volume (blank or from an image); its quota is charged at once."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    ctx = scope.ctx_for(request, project)
    form = VolumeCreateForm(request.POST or None, ctx=ctx)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                image = visible_image(ctx, data["image"]) if data["image"] else None
                spec = volume_service.VolumeSpec(
                    size=data["size"],
                    volume_type=VolumeType.objects.get(pk=data["volume_type"]),
                    name=data["name"],
                    description=data["description"],
                    image=image,
                )
                volume = volume_service.create_volume(project, spec, actor=request.user)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = 403 if exc.status == 413 else 400
            else:
                messages.success(request, f"Volume {volume.name or volume.pk} was created.")
                return redirect("cloud_volume", volume.pk)
    return render_page(request, "compute/volumes_create.html", {"form": form}, status=status)


@login_required
@require_GET
def volume_detail(request: HttpRequest, volume_id: str) -> HttpResponse:
    """One volume: status, size, type, attachment, image, fault, and what can be done with it."""
    project = scope.project_of(request)
    volume = VolumeView(volume_of(project, volume_id))
    can_write = scope.can_write(request, project)
    context = {
        "volume": volume,
        "servers": attachable_servers(project) if can_write and volume.can_attach else [],
        "extend_form": ExtendForm(initial={"new_size": volume.size + 1}) if can_write and volume.can_extend else None,
        "poll_seconds": POLL_SECONDS,
        "can_write": can_write,
    }
    if scope.wants_partial(request):
        return render(request, "compute/volumes_panel.html", context)
    return render_page(request, "compute/volumes_detail.html", context)


@login_required
@require_POST
def volume_attach(request: HttpRequest) -> HttpResponse:
    """Attach a volume to a server of the project (both named in the form)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    form = AttachForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a volume and a server.")
        return redirect(safe_next(request, reverse("cloud_volumes")))
    volume = volume_of(project, form.cleaned_data["volume"])
    server = scope.server_of(project, form.cleaned_data["server"])
    try:
        attachments.attach_volume(server, volume, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Volume {volume} is being attached to {server.name}.")
    return redirect(safe_next(request, reverse("cloud_volume", args=[volume.pk])))


@login_required
@require_POST
def volume_detach(request: HttpRequest, volume_id: str) -> HttpResponse:
    """Detach a volume from its server (the cluster keeps its disk and data)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    volume = volume_of(project, volume_id)
    back = safe_next(request, reverse("cloud_volume", args=[volume.pk]))
    if volume.server is None:
        messages.error(request, f"Volume {volume} is not attached.")
        return redirect(back)
    try:
        attachments.detach_volume(volume.server, volume, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Volume {volume} is being detached from {volume.server.name}.")
    return redirect(back)


@login_required
@require_POST
def volume_extend(request: HttpRequest, volume_id: str) -> HttpResponse:
    """Grow a volume (only before its first attachment; the growth is charged)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    volume = volume_of(project, volume_id)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the new size in GiB.")
    else:
        try:
            volume_service.extend_volume(volume, form.cleaned_data["new_size"], actor=request.user)
        except DomainError as exc:
            scope.report(request, exc)
        else:
            messages.success(request, f"Volume {volume} now has {form.cleaned_data['new_size']} GiB.")
    return redirect("cloud_volume", volume.pk)


@login_required
@require_http_methods(["GET", "POST"])
def volume_delete(request: HttpRequest, volume_id: str) -> HttpResponse:
    """GET: the confirmation page. POST: delete the volume (its data is gone; its quota is given back)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    volume = volume_of(project, volume_id)
    if request.method == "GET":
        return render_page(request, "compute/volumes_confirm.html", {"volume": volume})
    try:
        left = volume_service.delete_volume(volume, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
        return redirect("cloud_volume", volume.pk)
    messages.success(request, f"Volume {volume} {'is being deleted' if left else 'was deleted'}.")
    return redirect("cloud_volumes")


@login_required
@require_GET
def server_volumes(request: HttpRequest, server_id: str) -> HttpResponse:
    """The server page's volumes card: attached volumes (detach), available ones (attach)."""
    project = scope.project_of(request)
    server = scope.server_of(project, server_id)
    rows = Volume.objects.filter(server=server, status__in=ATTACHED).select_related("volume_type")
    volumes = [VolumeView(row) for row in rows.order_by("attached_at", "id")]
    waiting = pending.waiting(server)  # chosen in the create wizard, attached once the server is ACTIVE
    can_write = scope.can_write(request, project)
    context = {
        "server": server,
        "volumes": volumes,
        "waiting": waiting,
        "choices": available_volumes(project) if can_write else [],
        "polling": bool(waiting) or any(v.transitional for v in volumes),
        "poll_seconds": POLL_SECONDS,
        "can_write": can_write,
    }
    return render(request, "compute/volumes_server.html", context)
