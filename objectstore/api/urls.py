"""Swift routes at the host root: `/v1/AUTH_<project_id>[/<container>[/<object>]]`, `/info`, `/public/<token>`.

`/v1/` goes through the Pithos layer (`pithos_views`), which hands plain Swift requests to `swift_view`.
"""

from django.urls import path, re_path

from objectstore.api.info import bad_info_view, info_view
from objectstore.api.pithos_read import public_view
from objectstore.api.pithos_views import pithos_view

urlpatterns = [
    path("info", info_view, name="swift-info"),
    re_path(r"^info.", bad_info_view, name="swift-info-bad"),
    re_path(r"^v1(?:/(?P<rest>(?s:.*)))?\Z", pithos_view, name="swift"),
    path("public/<str:token>", public_view, name="objectstore-public"),
]
