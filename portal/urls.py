"""Root URL layout: one host, one port, the paths real OpenStack clients expect (see DESIGN.md)."""

from django.contrib import admin
from django.urls import include, path

from portal.observability.health import health_view
from portal.observability.metrics import metrics_view

urlpatterns = [
    path("identity", include("identity.api.keystone.urls")),
    path("api/", include("portal.api.urls")),
    path("health", health_view, name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("network", include("compute.network.api.urls")),
    path("image", include("compute.image.api.urls")),
    path("volume", include("compute.volume.api.urls")),
    path("compute", include("compute.api.urls")),
    path("", include("objectstore.api.urls")),
    path("", include("portal.ui.urls")),
]

handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
