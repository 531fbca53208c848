"""Nova URLs, mounted at `/compute` (patterns start with "/" or are empty).

Every route also answers with a trailing slash. Anything else under /compute is Nova's 404
(after the token check), never the object store's.
"""

from __future__ import annotations

from django.urls import URLPattern, re_path
from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import (
    console_page,
    flavors,
    images_proxy,
    instance_actions,
    keypairs,
    limits,
    server_actions,
    server_groups,
    server_meta,
    servers,
    versions,
    volume_attachments,
)
from compute.api.base import NovaView
from portal.errors import NotFound

V = "/v2.1"
SEGMENT = "[^/]+"
GROUPS = (
    "server_id",
    "flavor_id",
    "key",
    "name",
    "tag",
    "network",
    "project_id",
    "volume_id",
    "request_id",
    "group_id",
    "image_id",
)


def route(pattern: str, view: type, name: str) -> URLPattern:
    """A route for `pattern` ({name} segments become named groups), with or without a trailing slash."""
    regex = pattern
    for group in GROUPS:
        regex = regex.replace("{" + group + "}", f"(?P<{group}>{SEGMENT})")
    return re_path(rf"^{regex}/?$", view.as_view(), name=f"nova-{name}")


class UnknownView(NovaView):
    """Any other path under /compute/v2.1: Nova's 404."""

    def _missing(self, request: Request, *args: str, **kwargs: str) -> Response:
        raise NotFound("The resource could not be found.")

    get = post = put = delete = patch = head = _missing


SERVER = f"{V}/servers/{{server_id}}"
FLAVOR = f"{V}/flavors/{{flavor_id}}"
IMAGE = f"{V}/images/{{image_id}}"

urlpatterns = [
    route("", versions.VersionsView, "versions"),
    route(V, versions.VersionView, "version"),
    route("/console", console_page.ConsolePageView, "console"),
    route(f"{V}/servers", servers.ServersView, "servers"),
    route(f"{V}/servers/detail", servers.ServersDetailView, "servers-detail"),
    route(SERVER, servers.ServerView, "server"),
    route(f"{SERVER}/action", server_actions.ServerActionView, "server-action"),
    route(f"{SERVER}/remote-consoles", server_actions.RemoteConsolesView, "server-remote-consoles"),
    route(f"{SERVER}/metadata", server_meta.MetadataView, "server-metadata"),
    route(f"{SERVER}/metadata/{{key}}", server_meta.MetadataItemView, "server-metadata-item"),
    route(f"{SERVER}/tags", server_meta.TagsView, "server-tags"),
    route(f"{SERVER}/tags/{{tag}}", server_meta.TagView, "server-tag"),
    route(f"{SERVER}/ips", server_meta.IpsView, "server-ips"),
    route(f"{SERVER}/ips/{{network}}", server_meta.IpsNetworkView, "server-ips-network"),
    route(f"{SERVER}/os-volume_attachments", volume_attachments.VolumeAttachmentsView, "volume-attachments"),
    route(f"{SERVER}/os-volume_attachments/{{volume_id}}", volume_attachments.VolumeAttachmentView, "volume-attach"),
    route(f"{SERVER}/os-instance-actions", instance_actions.InstanceActionsView, "instance-actions"),
    route(f"{SERVER}/os-instance-actions/{{request_id}}", instance_actions.InstanceActionView, "instance-action"),
    route(f"{V}/flavors", flavors.FlavorsView, "flavors"),
    route(f"{V}/flavors/detail", flavors.FlavorsDetailView, "flavors-detail"),
    route(FLAVOR, flavors.FlavorView, "flavor"),
    route(f"{FLAVOR}/os-extra_specs", flavors.ExtraSpecsView, "flavor-extra-specs"),
    route(f"{FLAVOR}/os-extra_specs/{{key}}", flavors.ExtraSpecView, "flavor-extra-spec"),
    route(f"{FLAVOR}/os-flavor-access", flavors.FlavorAccessView, "flavor-access"),
    route(f"{FLAVOR}/action", flavors.FlavorActionView, "flavor-action"),
    route(f"{V}/images", images_proxy.ImagesView, "images"),
    route(f"{V}/images/detail", images_proxy.ImagesDetailView, "images-detail"),
    route(IMAGE, images_proxy.ImageView, "image"),
    route(f"{IMAGE}/metadata", images_proxy.ImageMetadataView, "image-metadata"),
    route(f"{IMAGE}/metadata/{{key}}", images_proxy.ImageMetadataItemView, "image-metadata-item"),
    route(f"{V}/os-keypairs", keypairs.KeypairsView, "keypairs"),
    route(f"{V}/os-keypairs/{{name}}", keypairs.KeypairView, "keypair"),
    route(f"{V}/os-server-groups", server_groups.ServerGroupsView, "server-groups"),
    route(f"{V}/os-server-groups/{{group_id}}", server_groups.ServerGroupView, "server-group"),
    route(f"{V}/limits", limits.LimitsView, "limits"),
    route(f"{V}/os-quota-sets/{{project_id}}", limits.QuotaSetView, "quota-set"),
    route(f"{V}/os-quota-sets/{{project_id}}/defaults", limits.QuotaSetDefaultsView, "quota-set-defaults"),
    route(f"{V}/os-quota-sets/{{project_id}}/detail", limits.QuotaSetDetailView, "quota-set-detail"),
    route(f"{V}/os-availability-zone", limits.ZonesView, "zones"),
    route(f"{V}/os-availability-zone/detail", limits.ZonesDetailView, "zones-detail"),
    re_path(rf"^{V}/.*$", UnknownView.as_view(), name="nova-unknown"),
]
