"""File browser pages: containers, a container's folders and files, one file's details, downloads."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from objectstore.api import headers
from objectstore.errors import StorageUnavailable
from objectstore.models import Container, Object
from objectstore.services import containers, listing, objects, public, reading, sharing, versions
from objectstore.services.listing import ListingQuery, Subdir
from objectstore.ui import scope
from objectstore.ui.forms import ContainerForm, FolderForm, ShareForm
from portal.errors import DomainError
from portal.ui.nav import render_page

PAGE_SIZE = 500


@login_required
@require_GET
def container_list(request: HttpRequest) -> HttpResponse:
    """The current project's containers with their usage, and the storage quota."""
    project = scope.project_of(request)
    rows = listing.list_containers(project, ListingQuery(limit=10000))
    context = {
        "project": project,
        "rows": rows,
        "form": ContainerForm(),
        "bars": scope.storage_bars(project),
        "can_write": scope.can_write(request, project),
    }
    return render_page(request, "objectstore/containers.html", context)


def _crumbs(prefix: str) -> list[tuple[str, str]]:
    """(label, prefix) pairs for each folder level of `prefix`."""
    crumbs, path = [], ""
    for part in prefix.split("/")[:-1]:
        path += part + "/"
        crumbs.append((part, path))
    return crumbs


@login_required
@require_GET
def browse(request: HttpRequest, container: str) -> HttpResponse:
    """One folder level of a container (by `/`), with upload, new folder and per-file actions."""
    box = scope.container_of(request, container)
    prefix = request.GET.get("prefix", "")
    marker = request.GET.get("marker", "")
    if "\x00" in prefix + marker or len(prefix) > 1024 or len(marker) > 1024:
        raise Http404("Bad folder")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    rows = listing.list_objects(box, ListingQuery(prefix=prefix, delimiter="/", marker=marker, limit=PAGE_SIZE))
    folders = [row.name for row in rows if isinstance(row, Subdir)]
    files = [row for row in rows if not isinstance(row, Subdir) and row["name"] != prefix]
    for row in files:
        row["label"] = row["name"][len(prefix) :]
    next_marker = ""
    if len(rows) == PAGE_SIZE:
        next_marker = rows[-1].name if isinstance(rows[-1], Subdir) else rows[-1]["name"]
    context = {
        "container": box,
        "usage": containers.container_usage(box),
        "prefix": prefix,
        "crumbs": _crumbs(prefix),
        "folders": [(name[len(prefix) :], name) for name in folders],
        "files": files,
        "next_marker": next_marker,
        "folder_form": FolderForm(initial={"prefix": prefix}),
        "bars": scope.storage_bars(box.project),
        "can_write": scope.can_write(request, box.project),
    }
    return render_page(request, "objectstore/browse.html", context)


@login_required
@require_GET
def object_detail(request: HttpRequest, container: str) -> HttpResponse:
    """One file: its versions (with restore), sharing and public link."""
    box = scope.container_of(request, container)
    name = request.GET.get("name", "")
    try:
        current = objects.get_version(box, scope.check_object_name(name))
        history = versions.list_versions(box, name)
    except DomainError as exc:
        raise Http404("No such file") from exc
    item = Object.objects.get(container=box, name=name)
    shared = {"read": "", "write": ""}
    for part in sharing.format_sharing(item).split(";"):
        key, _, value = part.partition("=")
        if key in shared:
            shared[key] = value
    context = {
        "container": box,
        "name": name,
        "folder": name.rsplit("/", 1)[0] + "/" if "/" in name else "",
        "current": current,
        "history": list(reversed(history)),
        "share_form": ShareForm(initial={"name": name, "read": shared["read"], "write": shared["write"]}),
        "public_url": _public_url(request, box, name),
        "can_write": scope.can_write(request, box.project),
    }
    return render_page(request, "objectstore/object.html", context)


def _public_url(request: HttpRequest, box: Container, name: str) -> str:
    """The absolute public URL of a file, or "" when it is private."""
    token = public.token_of(box, name)
    return request.build_absolute_uri(public.public_path(token)) if token else ""


@login_required
@require_GET
def download(request: HttpRequest, container: str) -> HttpResponse | StreamingHttpResponse:
    """A file's bytes (the current version, or `version=<id>`), streamed block by block as an attachment."""
    box = scope.container_of(request, container)
    name = request.GET.get("name", "")
    wanted = request.GET.get("version", "")
    try:
        scope.check_object_name(name)
        version = versions.get_version(box, name, wanted) if wanted else objects.get_version(box, name)
        chunks = reading.open_range(version)
    except StorageUnavailable as exc:  # the file exists but its data cannot be served intact: say so
        return HttpResponse(exc.message, status=503, content_type="text/plain; charset=utf-8")
    except DomainError as exc:
        raise Http404("No such file") from exc
    response = StreamingHttpResponse(chunks, content_type=headers.to_wire(version.content_type))
    response["Content-Length"] = str(version.size)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name.rsplit('/', 1)[-1])}"
    response["ETag"] = version.etag
    return response
