"""File browser actions: create/delete containers, upload (streamed), new folder, delete, share, publish, restore.

Every action works on the current project only and needs a member or admin role (403 otherwise).
Uploads are raw request bodies (`application/octet-stream`, the object name in `?name=`) read
straight into the upload pipeline one block at a time, never the whole file in memory.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from objectstore.api import headers
from objectstore.errors import LengthRequired
from objectstore.services import charges, containers, objects, public, sharing, uploads, versions
from objectstore.ui import scope
from objectstore.ui.forms import ContainerForm, FolderForm, ShareForm
from portal.errors import DomainError, ValidationFailed
from portal.ui.nav import render_page

FOLDER_TYPE = "application/directory"


def _browse_url(container: str, prefix: str = "") -> str:
    url = reverse("files_browse", args=[container])
    return f"{url}?{urlencode({'prefix': prefix})}" if prefix else url


def _detail_url(container: str, name: str) -> str:
    return f"{reverse('files_object', args=[container])}?{urlencode({'name': name})}"


@login_required
@require_POST
def container_create(request: HttpRequest) -> HttpResponse:
    """Create a container in the current project."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    form = ContainerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("files")
    _, created = containers.put_container(project, form.cleaned_data["name"], metadata={}, actor=request.user)
    name = form.cleaned_data["name"]
    messages.success(request, f"Container {name} was created." if created else f"Container {name} already exists.")
    return redirect("files_browse", name)


@login_required
@require_POST
def container_delete(request: HttpRequest, container: str) -> HttpResponse:
    """Delete an empty container."""
    box = scope.container_of(request, container)
    scope.require_write(request, box.project)
    try:
        containers.delete_container(box.project, box.name, actor=request.user)
    except DomainError:
        messages.error(request, f"Container {box.name} is not empty.")
        return redirect("files_browse", box.name)
    messages.success(request, f"Container {box.name} was deleted.")
    return redirect("files")


@login_required
@require_POST
def upload(request: HttpRequest, container: str) -> JsonResponse:
    """Store the raw request body as `?name=` (JSON answer for the page's upload script)."""
    box = scope.container_of(request, container)
    scope.require_write(request, box.project)
    try:
        name = scope.check_object_name(request.GET.get("name", ""))
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if not raw_length.isdigit():
            raise LengthRequired("Length Required")
        length = int(raw_length)
        charges.precheck(box.project, length)
        data = uploads.store_stream(request.read, block_size=box.block_size, length=length)
        given = headers.from_wire(request.headers.get("X-Object-Content-Type", "")).strip()[:256]
        ctype = given or mimetypes.guess_type(name, strict=False)[0] or headers.DEFAULT_CONTENT_TYPE
        version = objects.put_object(box, name, data, objects.ObjectAttrs(content_type=ctype), actor=request.user)
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"name": name, "bytes": version.size, "etag": version.etag}, status=201)


@login_required
@require_POST
def folder_create(request: HttpRequest, container: str) -> HttpResponse:
    """Create a folder: an empty `prefix/name/` marker object (as Pithos and the Swift UI do)."""
    box = scope.container_of(request, container)
    scope.require_write(request, box.project)
    form = FolderForm(request.POST)
    prefix = request.POST.get("prefix", "")
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_browse_url(box.name, prefix))
    name = f"{form.cleaned_data['prefix']}{form.cleaned_data['name']}/"
    try:
        scope.check_object_name(name)
        data = uploads.store_bytes(b"", block_size=box.block_size)
        objects.put_object(box, name, data, objects.ObjectAttrs(content_type=FOLDER_TYPE), actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Folder {form.cleaned_data['name']} was created.")
    return redirect(_browse_url(box.name, prefix))


@login_required
@require_POST
def object_delete(request: HttpRequest, container: str) -> HttpResponse:
    """Delete a file (its history stays when the container keeps versions)."""
    box = scope.container_of(request, container)
    scope.require_write(request, box.project)
    name = request.POST.get("name", "")
    try:
        objects.delete_object(box, scope.check_object_name(name), actor=request.user)
        sharing.clear_object_extras(box, name)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{name} was deleted.")
    folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
    return redirect(_browse_url(box.name, folder))


@login_required
@require_POST
def share(request: HttpRequest, container: str) -> HttpResponse:
    """Set who may read and write a file."""
    box = scope.container_of(request, container)
    scope.require_write(request, box.project)
    form = ShareForm(request.POST)
    name = request.POST.get("name", "")
    try:
        if not form.is_valid():
            raise ValidationFailed("Invalid sharing.")
        parsed = sharing.parse_sharing(form.sharing_header(), box.project)
        sharing.set_sharing(box, scope.check_object_name(name), parsed, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Sharing was saved." if not parsed.is_empty() else "The file is private again.")
    return redirect(_detail_url(box.name, name))


@login_required
@require_POST
def make_public(request: HttpRequest, container: str) -> HttpResponse:
    """Publish or revoke a file's public link; htmx requests get the link panel back."""
    box = scope.container_of(request, container)
    scope.require_write(request, box.project)
    name = request.POST.get("name", "")
    wanted = request.POST.get("public") == "true"
    error = ""
    try:
        token = public.set_public(box, scope.check_object_name(name), wanted, actor=request.user)
    except DomainError as exc:
        error, token = exc.message, None
    url = request.build_absolute_uri(public.public_path(token)) if token else ""
    if request.headers.get("HX-Request"):
        context = {"container": box, "name": name, "public_url": url, "error": error, "can_write": True}
        return render_page(request, "objectstore/_public_panel.html", context)
    if error:
        messages.error(request, error)
    return redirect(_detail_url(box.name, name))


@login_required
@require_POST
def restore(request: HttpRequest, container: str) -> HttpResponse:
    """Make an old version current again."""
    box = scope.container_of(request, container)
    scope.require_write(request, box.project)
    name = request.POST.get("name", "")
    try:
        wanted = request.POST.get("version", "")
        versions.restore_version(box, scope.check_object_name(name), wanted, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The version was restored.")
    return redirect(_detail_url(box.name, name))


@login_required
@require_POST
def versioning(request: HttpRequest, container: str) -> HttpResponse:
    """Switch the container's versioning policy (auto keeps history, none keeps the current only)."""
    box = scope.container_of(request, container)
    scope.require_write(request, box.project)
    try:
        versions.set_policy(box, request.POST.get("policy", ""), actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The versioning policy was saved.")
    return redirect("files_browse", box.name)
