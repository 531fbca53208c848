"""Routes of the portal API (included at /api/)."""

from rest_framework.routers import DefaultRouter

from identity.api.portal import views

router = DefaultRouter()
router.include_root_view = False
router.register("projects", views.ProjectViewSet, basename="portal-project")
router.register("resources", views.ResourceViewSet, basename="portal-resource")
router.register("applications", views.ApplicationViewSet, basename="portal-application")
router.register("audit", views.AuditViewSet, basename="portal-audit")

urlpatterns = router.urls
