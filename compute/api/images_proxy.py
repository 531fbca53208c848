"""Nova's image proxy API: `/images[/detail]`, `/images/{id}` and `/images/{id}/metadata[/{key}]`.

Deprecated upstream: the image routes answer up to microversion 2.35 and the metadata routes up
to 2.38 (Nova's MAX_PROXY_API_SUPPORT_VERSION and MAX_IMAGE_META_PROXY_API_VERSION); later
versions get Nova's 404. Every read and change goes through the image service
(compute.image: `selectors.list_images`, `access.visible`, `images.update_image`,
`images.delete_image`), so the caller sees and changes exactly what Glance would let it: an
image it cannot see is a 404, one it can see but not change a 403. Metadata is the image's
free-form properties; POST merges, PUT replaces them all (Nova's `purge_props`), with Nova's
limit of 128 items (403 "Image metadata limit exceeded") and Nova's key/value schema (400).
Shapes are in images_render.py.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import validation as check
from compute.api.base import NovaView, body_of, next_link, no_content
from compute.api.images_render import image_basic, image_detail, list_query, properties_of
from compute.image import limits, selectors
from compute.image.models import Image
from compute.image.services import access, images
from compute.image.services.attributes import CORE, Change
from portal.errors import Forbidden, NotFound, ValidationFailed

NOT_FOUND = "Image not found."


class ImageProxyView(NovaView):
    """A proxy view: Nova's 404 from the microversion in `until` on (the API is gone there)."""

    until = "no_network_quotas"  # 2.36: Nova's proxy APIs are gone

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """NovaView's checks, then the upper microversion bound."""
        super().initial(request, *args, **kwargs)
        if self.v(self.until):
            raise NotFound("The resource could not be found.")

    def image(self, image_id: str) -> Image:
        """The image if the caller may see it (Glance's rules), with its properties; 404 otherwise."""
        try:
            return access.visible(self.ctx(), image_id, Image.objects.with_details())
        except NotFound:
            raise NotFound(NOT_FOUND) from None


class ImagesView(ImageProxyView):
    """`GET /images`: ids, names and links."""

    detailed = False

    def get(self, request: Request) -> Response:
        """One page of the images Glance lists for the caller (newest first)."""
        query = list_query(request.query_params)
        rows, more = selectors.list_images(self.ctx(), query)
        render = image_detail if self.detailed else image_basic
        body: dict[str, Any] = {"images": [render(request, image) for image in rows]}
        if more and rows:
            path = "images/detail" if self.detailed else "images"
            body["images_links"] = next_link(request, path, rows[-1].id)
        return Response(body)

    def delete(self, request: Request) -> Response:
        """`DELETE /images/` (no id): Nova's 404."""
        raise NotFound(NOT_FOUND)


class ImagesDetailView(ImagesView):
    """`GET /images/detail`: whole images."""

    detailed = True


class ImageView(ImageProxyView):
    """`GET|DELETE /images/{id}`."""

    def get(self, request: Request, image_id: str) -> Response:
        """One image."""
        return Response({"image": image_detail(request, self.image(image_id))})

    def delete(self, request: Request, image_id: str) -> Response:
        """Delete the image as Glance would for the caller (403 if it may see but not delete it)."""
        try:
            images.delete_image(self.ctx(), image_id, actor=self.actor)
        except NotFound:
            raise NotFound(NOT_FOUND) from None
        return no_content()


def _metadata_body(request: Request, key: str) -> dict[str, str]:
    """`{key: {...}}` checked with Nova's metadata schema."""
    data = body_of(request)
    if key not in data:
        raise check.invalid(key, None, f"'{key}' is a required property")
    unknown = sorted(set(data) - {key})
    if unknown:
        raise ValidationFailed(
            f"Additional properties are not allowed ({', '.join(map(repr, unknown))} was unexpected)"
        )
    items = check.metadata(key, data[key])
    for name in items:
        if name in CORE or name == "tags":
            raise Forbidden(f"Attribute '{name}' is an image attribute, not metadata.")
    return items


class MetadataProxyView(ImageProxyView):
    """The metadata routes live until 2.38 (gone at 2.39, like Nova's)."""

    until = "no_image_limits"

    def change(self, image_id: str, changes: list[Change], result: dict[str, Any]) -> dict[str, Any]:
        """Apply property changes through Glance's update (its permission rules, one transaction)."""
        if len(result) > limits.MAX_PROPERTIES:
            raise Forbidden("Image metadata limit exceeded")
        try:
            image = images.update_image(self.ctx(), image_id, changes, actor=self.actor)
        except NotFound:
            raise NotFound(NOT_FOUND) from None
        return properties_of(image)


class ImageMetadataView(MetadataProxyView):
    """`GET|POST|PUT /images/{id}/metadata` (POST merges, PUT replaces)."""

    def get(self, request: Request, image_id: str) -> Response:
        """The image's properties."""
        return Response({"metadata": properties_of(self.image(image_id))})

    def post(self, request: Request, image_id: str) -> Response:
        """Add or change properties."""
        items = _metadata_body(request, "metadata")
        current = properties_of(self.image(image_id))
        changes = [Change("add", name, value) for name, value in items.items()]
        metadata = self.change(image_id, changes, {**current, **items})
        return Response({"metadata": metadata})

    def put(self, request: Request, image_id: str) -> Response:
        """Replace all properties."""
        items = _metadata_body(request, "metadata")
        current = properties_of(self.image(image_id))
        changes = [Change("remove", name) for name in current if name not in items]
        changes += [Change("add", name, value) for name, value in items.items()]
        metadata = self.change(image_id, changes, items)
        return Response({"metadata": metadata})


class ImageMetadataItemView(MetadataProxyView):
    """`GET|PUT|DELETE /images/{id}/metadata/{key}`."""

    def get(self, request: Request, image_id: str, key: str) -> Response:
        """One property."""
        metadata = properties_of(self.image(image_id))
        if key not in metadata:
            raise NotFound("Invalid metadata key")
        return Response({"meta": {key: metadata[key]}})

    def put(self, request: Request, image_id: str, key: str) -> Response:
        """Set one property; the body's single key must be the URL's."""
        item = _metadata_body(request, "meta")
        if len(item) != 1:
            raise ValidationFailed("Request body contains too many items")
        if key not in item:
            raise ValidationFailed("Request body and URI mismatch")
        current = properties_of(self.image(image_id))
        self.change(image_id, [Change("add", key, item[key])], {**current, **item})
        return Response({"meta": item})

    def delete(self, request: Request, image_id: str, key: str) -> Response:
        """Remove one property."""
        if key not in properties_of(self.image(image_id)):
            raise NotFound("Invalid metadata key")
        self.change(image_id, [Change("remove", key)], {})
        return no_content()
