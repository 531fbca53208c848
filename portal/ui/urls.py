"""Dashboard URLs: home, project switcher, audit log, identity's pages and the cluster admin pages."""

from django.urls import include, path

from portal.ui import audit, views

urlpatterns = [
    path("", views.home, name="home"),
    path("switch-project/", views.switch_project, name="switch_project"),
    path("manage/audit/", audit.audit_log, name="manage_audit"),
    path("manage/", include("backend_ganeti.ui.urls")),
    path("", include("identity.ui.urls")),
    path("files/", include("objectstore.ui.urls")),
    path("cloud/", include("compute.ui.urls")),
]
