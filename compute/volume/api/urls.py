"""Cinder URLs, mounted at `/volume` (patterns start with "/" or are empty).

Every route also answers with a trailing slash, except the volume list (`/volumes/` is an empty
volume id: a 404). Anything else under /volume/v3/{project_id} is
Cinder's 404 (after the token check).
"""

from __future__ import annotations

from django.urls import URLPattern, re_path
from rest_framework.request import Request
from rest_framework.response import Response

from compute.volume.api import actions, misc, versions, volumes
from compute.volume.api.base import CinderView
from portal.errors import NotFound

SEGMENT = "[^/]+"
GROUPS = ("project_id", "volume_id", "type_id", "snapshot_id", "target_id", "key")


def route(pattern: str, view: type, name: str) -> URLPattern:
    """A route for `pattern` ({name} segments become named groups), with or without a trailing slash."""
    regex = pattern
    for group in GROUPS:
        regex = regex.replace("{" + group + "}", f"(?P<{group}>{SEGMENT})")
    return re_path(rf"^{regex}/?$", view.as_view(), name=f"cinder-{name}")


class UnknownView(CinderView):
    """Any other path under /volume/v3/{project_id}: Cinder's 404."""

    def _missing(self, request: Request, *args: str, **kwargs: str) -> Response:
        raise NotFound("The resource could not be found.")

    get = post = put = delete = patch = head = _missing


P = "/v3/{project_id}"
VOLUME = f"{P}/volumes/{{volume_id}}"

urlpatterns = [
    route("", versions.VersionsView, "versions"),
    route("/v3", versions.VersionView, "version"),
    # No trailing slash: `/volumes/` is an empty volume id, Cinder's 404 (UnknownView).
    re_path(r"^/v3/(?P<project_id>[^/]+)/volumes$", volumes.VolumesView.as_view(), name="cinder-volumes"),
    route(f"{P}/volumes/detail", volumes.VolumesDetailView, "volumes-detail"),
    route(VOLUME, volumes.VolumeView, "volume"),
    route(f"{VOLUME}/action", actions.ActionView, "volume-action"),
    route(f"{VOLUME}/metadata", volumes.MetadataView, "volume-metadata"),
    route(f"{VOLUME}/metadata/{{key}}", volumes.MetadataItemView, "volume-metadata-item"),
    route(f"{P}/types", misc.TypesView, "types"),
    route(f"{P}/types/{{type_id}}", misc.TypeView, "type"),
    route(f"{P}/types/{{type_id}}/extra_specs", misc.TypeExtraSpecsView, "type-extra-specs"),
    route(f"{P}/snapshots", misc.SnapshotsView, "snapshots"),
    route(f"{P}/snapshots/detail", misc.SnapshotsView, "snapshots-detail"),
    route(f"{P}/snapshots/{{snapshot_id}}", misc.SnapshotView, "snapshot"),
    route(f"{P}/backups", misc.BackupsView, "backups"),
    route(f"{P}/backups/detail", misc.BackupsView, "backups-detail"),
    route(f"{P}/limits", misc.LimitsView, "limits"),
    route(f"{P}/os-quota-sets/{{target_id}}", misc.QuotaSetView, "quota-set"),
    route(f"{P}/os-quota-sets/{{target_id}}/defaults", misc.QuotaDefaultsView, "quota-defaults"),
    route(f"{P}/os-availability-zone", misc.ZonesView, "zones"),
    route(f"{P}/extensions", misc.ExtensionsView, "extensions"),
    re_path(r"^/v3/(?P<project_id>[0-9a-fA-F-]{32,36})/?$", versions.VersionView.as_view(), name="cinder-project-root"),
    re_path(r"^/v3/(?P<project_id>[^/]+)/.*$", UnknownView.as_view(), name="cinder-unknown"),
]
