"""Routes of the backend admin API (included at /api/admin/)."""

from rest_framework.routers import DefaultRouter

from backend_ganeti.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("clusters", views.ClusterViewSet, basename="admin-cluster")
router.register("nodes", views.NodeViewSet, basename="admin-node")
router.register("instances", views.InstanceViewSet, basename="admin-instance")
router.register("jobs", views.JobViewSet, basename="admin-job")

urlpatterns = router.urls
