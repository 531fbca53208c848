"""Swift routes at the host root: `/v1/AUTH_<project_id>[/<container>[/<object>]]` and `/info`."""

from django.urls import path, re_path

from objectstore.api.info import info_view
from objectstore.api.views import swift_view

urlpatterns = [
    path("info", info_view, name="swift-info"),
    re_path(r"^v1/(?P<rest>(?s:.*))\Z", swift_view, name="swift"),
]
