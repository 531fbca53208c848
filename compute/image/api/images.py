"""`/v2/images` and `/v2/images/{id}`: list, create, show, update (JSON patch), delete."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.image.api import render
from compute.image.api.base import GlanceView, json_body
from compute.image.api.patch import V20, V21, PatchV20Parser, PatchV21Parser, parse_changes
from compute.image.api.query import parse_list_query
from compute.image.api.schemas import validation_error
from compute.image.models import Image
from compute.image.selectors import list_images
from compute.image.services import access, images
from identity.api.keystone.render import base_url
from portal.api.openstack import fault_body
from portal.errors import Forbidden, ValidationFailed

DISALLOWED = ("direct_url", "self", "file", "schema", "stores")


def check_create_body(body: dict[str, Any]) -> None:
    """Glance's create checks before the service: attributes only the server sets, then the schema."""
    for key in DISALLOWED:
        if key in body:
            raise Forbidden(f"Attribute '{key}' is read-only.")
    message = validation_error(body)
    if message:
        raise ValidationFailed(message[:1000])
    for key in body:
        if len(key) > 255:
            raise ValidationFailed("Custom property should not be greater than 255 characters.")


class ImagesView(GlanceView):
    """`GET /v2/images` (a page of images) and `POST /v2/images` (register one)."""

    def get(self, request: Request) -> Response:
        """One page, with `first`, `next` (when more follow) and `schema` links."""
        query = parse_list_query(request.query_params)
        page, more = list_images(self.ctx(), query)
        params = request.query_params.copy()
        params.pop("marker", None)
        encoded = params.urlencode()
        body: dict[str, Any] = {
            "images": [render.image_view(image) for image in page],
            "first": "/v2/images" + (f"?{encoded}" if encoded else ""),
            "schema": "/v2/schemas/images",
        }
        if more and page:
            params["marker"] = page[-1].id
            body["next"] = f"/v2/images?{params.urlencode()}"
        return Response(body)

    def post(self, request: Request) -> Response:
        """Register an image (queued, no data yet)."""
        body = json_body(request, dict)
        check_create_body(body)
        image = images.create_image(self.ctx(), body, actor=self.actor)
        image = Image.objects.with_details().get(pk=image.pk)
        response = Response(render.image_view(image), status=201)
        response["Location"] = f"{base_url(request)}/image{render.image_href(image.id)}"
        return response


class ImageView(GlanceView):
    """`GET`, `PATCH` and `DELETE /v2/images/{id}`."""

    parser_classes = [PatchV21Parser, PatchV20Parser]

    def get(self, request: Request, image_id: str) -> Response:
        """The image, if the token may see it."""
        image = access.visible(self.ctx(), image_id, Image.objects.with_details())
        return Response(render.image_view(image))

    def patch(self, request: Request, image_id: str) -> Response:
        """Apply a JSON patch in either of Glance's two patch media types."""
        access.visible(self.ctx(), image_id)  # an unknown or foreign image is a 404 whatever the body
        media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if media_type not in (V20, V21):
            allowed = ", ".join(sorted((V20, V21)))
            message = f"Image PATCH expects Content-Type one of: {allowed}"
            response = Response(fault_body(self.fault_style, 415, message), status=415)
            response["Accept-Patch"] = allowed
            return response
        changes = parse_changes(json_body(request, list), media_type)
        image = images.update_image(self.ctx(), image_id, changes, actor=self.actor)
        image = Image.objects.with_details().get(pk=image.pk)
        return Response(render.image_view(image))

    def delete(self, request: Request, image_id: str) -> Response:
        """Delete the image and its data (403 when protected)."""
        images.delete_image(self.ctx(), image_id, actor=self.actor)
        return Response(status=204)
