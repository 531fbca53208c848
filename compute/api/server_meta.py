"""A server's metadata (`/metadata[/{key}]`), tags (`/tags[/{tag}]`, 2.26+) and addresses (`/ips`)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import validation as check
from compute.api.base import NovaView, body_of, compute_root, no_content
from compute.api.render import addresses_for, plain
from compute.api.servers import _fetch
from compute.services import server_data
from portal.errors import NotFound, ValidationFailed


def _metadata_body(request: Request, key: str) -> dict[str, str]:
    data = body_of(request)
    if set(data) != {key}:
        raise check.invalid(key, None, f"'{key}' is a required property")
    return check.metadata(key, data[key])


class MetadataView(NovaView):
    """`GET|POST|PUT /servers/{id}/metadata` (POST merges, PUT replaces)."""

    def get(self, request: Request, server_id: str) -> Response:
        """The server's metadata."""
        return Response({"metadata": dict(_fetch(self, server_id).metadata)})

    def _set(self, request: Request, server_id: str, *, replace: bool) -> Response:
        items = _metadata_body(request, "metadata")
        server = _fetch(self, server_id)
        metadata = server_data.set_metadata(
            server, items, replace=replace, is_admin=self.ctx().is_admin, actor=self.actor
        )
        return Response({"metadata": metadata})

    def post(self, request: Request, server_id: str) -> Response:
        """Add or change items."""
        return self._set(request, server_id, replace=False)

    def put(self, request: Request, server_id: str) -> Response:
        """Replace all items."""
        return self._set(request, server_id, replace=True)


class MetadataItemView(NovaView):
    """`GET|PUT|DELETE /servers/{id}/metadata/{key}`."""

    def get(self, request: Request, server_id: str, key: str) -> Response:
        """One item."""
        metadata = _fetch(self, server_id).metadata
        if key not in metadata:
            raise NotFound("Metadata item was not found")
        return Response({"meta": {key: metadata[key]}})

    def put(self, request: Request, server_id: str, key: str) -> Response:
        """Set one item; the body's single key must be the URL's."""
        item = _metadata_body(request, "meta")
        if len(item) != 1:
            raise ValidationFailed("Request body contains too many items")
        if key not in item:
            raise ValidationFailed("Request body and URI mismatch")
        server = _fetch(self, server_id)
        server_data.set_metadata(server, item, replace=False, is_admin=self.ctx().is_admin, actor=self.actor)
        return Response({"meta": item})

    def delete(self, request: Request, server_id: str, key: str) -> Response:
        """Remove one item."""
        server = _fetch(self, server_id)
        server_data.delete_metadata_item(server, key, is_admin=self.ctx().is_admin, actor=self.actor)
        return no_content()


class TagsView(NovaView):
    """`GET|PUT|DELETE /servers/{id}/tags` (2.26+)."""

    since = "tags"

    def get(self, request: Request, server_id: str) -> Response:
        """The server's tags."""
        return Response({"tags": server_data.server_tags(_fetch(self, server_id))})

    def put(self, request: Request, server_id: str) -> Response:
        """Replace every tag."""
        data = body_of(request)
        if set(data) != {"tags"}:
            raise check.invalid("tags", None, "'tags' is a required property")
        tags: list[Any] = check.string_list("tags", data["tags"])
        server = _fetch(self, server_id)
        return Response(
            {"tags": server_data.replace_tags(server, tags, is_admin=self.ctx().is_admin, actor=self.actor)}
        )

    def delete(self, request: Request, server_id: str) -> Response:
        """Remove every tag."""
        server_data.delete_all_tags(_fetch(self, server_id), is_admin=self.ctx().is_admin, actor=self.actor)
        return no_content()


class TagView(NovaView):
    """`GET|PUT|DELETE /servers/{id}/tags/{tag}` (2.26+)."""

    since = "tags"

    def get(self, request: Request, server_id: str, tag: str) -> Response:
        """204 when the server has the tag, 404 otherwise."""
        if tag not in server_data.server_tags(_fetch(self, server_id)):
            raise NotFound(f"Tag {tag} could not be found.")
        return no_content()

    def put(self, request: Request, server_id: str, tag: str) -> Response:
        """Add a tag (201 with its Location when new, 204 when it was there)."""
        server = _fetch(self, server_id)
        created = server_data.add_tag(server, tag, is_admin=self.ctx().is_admin, actor=self.actor)
        response = no_content(201 if created else 204)
        response["Location"] = f"{compute_root(request)}/v2.1/servers/{server.pk}/tags/{tag}"
        return response

    def delete(self, request: Request, server_id: str, tag: str) -> Response:
        """Remove a tag."""
        server_data.delete_tag(_fetch(self, server_id), tag, is_admin=self.ctx().is_admin, actor=self.actor)
        return no_content()


class IpsView(NovaView):
    """`GET /servers/{id}/ips`."""

    def get(self, request: Request, server_id: str) -> Response:
        """The server's addresses by network."""
        server = _fetch(self, server_id)
        return Response({"addresses": plain(addresses_for([str(server.pk)]).get(str(server.pk), {}))})


class IpsNetworkView(NovaView):
    """`GET /servers/{id}/ips/{network}`."""

    def get(self, request: Request, server_id: str, network: str) -> Response:
        """The server's addresses on one network (404 when it has none there)."""
        server = _fetch(self, server_id)
        addresses = plain(addresses_for([str(server.pk)]).get(str(server.pk), {}))
        if network not in addresses:
            raise NotFound("Instance is not a member of specified network")
        return Response({network: addresses[network]})
