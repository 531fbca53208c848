"""Glance routes, mounted at `/image` (no trailing slash: patterns start with "/" or are empty).

Every route but the image list also answers with a trailing slash, since clients differ on that.
`/v2/images/` is Glance's 404 (an image with an empty id), as is any other path under /image/v2.
"""

from __future__ import annotations

from django.urls import URLPattern, re_path
from django.views import View

from compute.image.api import data, images, members, misc, versions

IMAGE = r"/v2/images/(?P<image_id>[^/]+)"


def route(pattern: str, view: type[View], name: str) -> URLPattern:
    """A route for `pattern`, with or without a trailing slash."""
    return re_path(rf"^{pattern}/?$", view.as_view(), name=f"glance-{name}")


urlpatterns = [
    route("", versions.VersionsView, "versions"),
    route("/versions", versions.ExplicitVersionsView, "versions-explicit"),
    route("/v2", versions.VersionsView, "v2"),
    re_path(r"^/v2/images$", images.ImagesView.as_view(), name="glance-images"),
    route(IMAGE, images.ImageView, "image"),
    route(f"{IMAGE}/file", data.ImageFileView, "image-file"),
    route(f"{IMAGE}/tags/(?P<tag>.+?)", misc.TagView, "image-tag"),
    route(f"{IMAGE}/actions/deactivate", misc.DeactivateView, "image-deactivate"),
    route(f"{IMAGE}/actions/reactivate", misc.ReactivateView, "image-reactivate"),
    route(f"{IMAGE}/tasks", misc.ImageTasksView, "image-tasks"),
    route(f"{IMAGE}/members", members.MembersView, "image-members"),
    route(f"{IMAGE}/members/(?P<member_id>[^/]+)", members.MemberView, "image-member"),
    route("/v2/schemas/(?P<name>[^/]+)", misc.SchemaView, "schema"),
    route("/v2/info/import", misc.ImportInfoView, "info-import"),
    re_path(r"^/v2/.*$", misc.UnknownView.as_view(), name="glance-unknown"),
]
