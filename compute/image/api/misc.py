"""Small Glance resources: tags, deactivate/reactivate actions, an image's tasks, schemas, import discovery."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from compute.image.api.base import GlanceView
from compute.image.api.schemas import SCHEMAS
from compute.image.services import access, images
from portal.errors import NotFound


class TagView(GlanceView):
    """`PUT` and `DELETE /v2/images/{id}/tags/{tag}` (204)."""

    def put(self, request: Request, image_id: str, tag: str) -> Response:
        """Add the tag."""
        images.add_tag(self.ctx(), image_id, tag, actor=self.actor)
        return Response(status=204)

    def delete(self, request: Request, image_id: str, tag: str) -> Response:
        """Remove the tag (404 when absent)."""
        images.remove_tag(self.ctx(), image_id, tag, actor=self.actor)
        return Response(status=204)


class DeactivateView(GlanceView):
    """`POST /v2/images/{id}/actions/deactivate` (204)."""

    def post(self, request: Request, image_id: str) -> Response:
        """Deactivate."""
        images.deactivate_image(self.ctx(), image_id, actor=self.actor)
        return Response(status=204)


class ReactivateView(GlanceView):
    """`POST /v2/images/{id}/actions/reactivate` (204)."""

    def post(self, request: Request, image_id: str) -> Response:
        """Reactivate."""
        images.reactivate_image(self.ctx(), image_id, actor=self.actor)
        return Response(status=204)


class ImageTasksView(GlanceView):
    """`GET /v2/images/{id}/tasks` (Glance 2.12): an image's import tasks; there are none here.

    Nefos has no tasks API (no interoperable import): every image the caller may see has an
    empty list (tempest's waiters poll it after snapshots); an image it may not see is a 404.
    """

    def get(self, request: Request, image_id: str) -> Response:
        """`{"tasks": []}` for a visible image."""
        access.visible(self.ctx(), image_id)
        return Response({"tasks": []})


class SchemaView(GlanceView):
    """`GET /v2/schemas/{image,images,member,members}`."""

    def get(self, request: Request, name: str) -> Response:
        """The named JSON schema."""
        build = SCHEMAS.get(name)
        if build is None:
            raise NotFound(f"No schema named {name}.")
        return Response(build())


class ImportInfoView(GlanceView):
    """`GET /v2/info/import`: no interoperable-import methods (clients then upload with PUT /file)."""

    def get(self, request: Request) -> Response:
        """An empty method list."""
        return Response({"import-methods": {"description": "Import methods available.", "type": "array", "value": []}})


class UnknownView(GlanceView):
    """Any other path under /image/v2 (e.g. `/v2/images/`, an empty image id): Glance's 404."""

    def _missing(self, request: Request, *args: str, **kwargs: str) -> Response:
        raise NotFound("The resource could not be found.")

    get = post = put = patch = delete = head = _missing
