"""Portal REST API under /api/ (projects, quotas, applications, audit; clusters under admin/) and its schema."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", include("backend_ganeti.api.urls")),
    path("", include("identity.api.portal.urls")),
]
