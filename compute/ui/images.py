"""Image pages: the images the project sees (its own, public, shared with it), upload from a file
(a raw request body streamed into Glance's upload path, with a progress bar in the page), register
from an object already in the project's object store, and delete the project's own images.

Both ways store the bytes through `compute.image.services.data.upload_image_data` (the object
`images/<id>` of the owner); registering copies the object's bytes block by block, never the whole
file in memory. A failed upload deletes the image record again, so no empty image is left behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from compute.image import limits
from compute.image.selectors import ListQuery, list_images
from compute.image.services import images as image_service
from compute.image.services.data import upload_image_data
from compute.ui import scope
from identity.tokens import TokenContext
from objectstore.errors import LengthRequired
from objectstore.services import containers, objects, reading
from portal.errors import DomainError, NotFound
from portal.ui.forms import BootstrapFormMixin
from portal.ui.nav import render_page

PAGE_SIZE = 50
FORMAT_CHOICES = [(f, f) for f in limits.DISK_FORMATS]
CONTAINER_CHOICES = [(f, f) for f in limits.CONTAINER_FORMATS]


class ImageForm(BootstrapFormMixin, forms.Form):
    """A new image's name and formats."""

    name = forms.CharField(max_length=255, label="Image name")
    disk_format = forms.ChoiceField(choices=FORMAT_CHOICES, initial="raw", label="Disk format")
    container_format = forms.ChoiceField(choices=CONTAINER_CHOICES, initial="bare", label="Container format")

    def attrs(self) -> dict[str, Any]:
        """Glance's create attributes (a private image)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "disk_format": data["disk_format"],
            "container_format": data["container_format"],
            "visibility": "private",
        }


class RegisterForm(ImageForm):
    """An image made from an object of the project's object store."""

    container = forms.CharField(max_length=256, label="Container")
    object_name = forms.CharField(max_length=1024, label="Object")


class _ChunkReader:
    """`read(size)` over an iterator of byte chunks (the upload path reads block-sized pieces)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def __call__(self, size: int) -> bytes:
        while len(self._buffer) < size:
            piece = next(self._chunks, b"")
            if not piece:
                break
            self._buffer += piece
        result, self._buffer = self._buffer[:size], self._buffer[size:]
        return result


@login_required
@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    """The images the project sees, newest first (keyset paging with `?marker=`)."""
    project = scope.project_of(request)
    ctx = scope.ctx_for(request, project)
    marker = request.GET.get("marker") or None
    try:
        rows, more = list_images(ctx, ListQuery(limit=PAGE_SIZE, marker=marker))
    except DomainError as exc:
        scope.report(request, exc)
        rows, more = list_images(ctx, ListQuery(limit=PAGE_SIZE))
    can_write = scope.can_write(request, project)
    context = {
        "images": rows,
        "project": project,
        "next_marker": rows[-1].pk if more and rows else "",
        "paged": bool(marker),
        # Two forms on one page: distinct element ids (the field names stay the same).
        "form": ImageForm(auto_id="upload-%s") if can_write else None,
        "register_form": RegisterForm() if can_write else None,
        "can_write": can_write,
    }
    return render_page(request, "compute/images.html", context)


def _store(ctx: TokenContext, form: ImageForm, read: Any, length: int | None, actor: Any) -> Any:
    """Create the image and store its bytes; the record is deleted again when the bytes fail."""
    image = image_service.create_image(ctx, form.attrs(), actor=actor)
    try:
        return upload_image_data(ctx, image.id, read, length=length, actor=actor)
    except DomainError:
        image_service.delete_image(ctx, image.id, actor=actor)
        raise


@login_required
@require_POST
def image_upload(request: HttpRequest) -> JsonResponse:
    """Store the raw request body as a new image (`?name=&disk_format=&container_format=`); JSON answer."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    ctx = scope.ctx_for(request, project)
    form = ImageForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"error": "; ".join(e for errs in form.errors.values() for e in errs)}, status=400)
    try:
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if not raw_length.isdigit():
            raise LengthRequired("Length Required")
        image = _store(ctx, form, request.read, int(raw_length), request.user)
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"id": image.id, "name": image.name, "size": image.size}, status=201)


@login_required
@require_POST
def image_register(request: HttpRequest) -> HttpResponse:
    """Make an image from an object of the project's object store (its bytes are copied block by block)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    ctx = scope.ctx_for(request, project)
    form = RegisterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect("cloud_images")
    try:
        box = containers.get_container(project, form.cleaned_data["container"])
        version = objects.get_version(box, form.cleaned_data["object_name"])
        image = _store(ctx, form, _ChunkReader(reading.open_range(version)), version.size, request.user)
    except NotFound:
        messages.error(request, "There is no such object in this project's files.")
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Image {image.name} was registered ({image.size} bytes).")
    return redirect("cloud_images")


@login_required
@require_POST
def image_delete(request: HttpRequest, image_id: str) -> HttpResponse:
    """Delete one of the project's images (and its data object)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    ctx = scope.ctx_for(request, project)
    try:
        image_service.delete_image(ctx, image_id, actor=request.user)
    except NotFound as exc:
        raise Http404("No such image") from exc
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, "The image was deleted.")
    return redirect("cloud_images")
