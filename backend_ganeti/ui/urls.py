"""Cluster admin pages, included under /manage/: clusters, nodes, instances and jobs."""

from django.urls import path

from backend_ganeti.ui import jobs, views

urlpatterns = [
    path("clusters/", views.cluster_list, name="manage_clusters"),
    path("clusters/<str:name>/", views.cluster_detail, name="manage_cluster"),
    path("clusters/<str:name>/<str:action>/", views.cluster_action, name="manage_cluster_action"),
    path("nodes/<int:pk>/<str:action>/", views.node_action, name="manage_node_action"),
    path("instances/<int:pk>/<str:action>/", views.instance_action, name="manage_instance_action"),
    path("jobs/", jobs.job_list, name="manage_jobs"),
    path("jobs/<int:pk>/", jobs.job_detail, name="manage_job"),
    path("jobs/<int:pk>/live/", jobs.job_live, name="manage_job_live"),
    path("jobs/<int:pk>/<str:action>/", views.job_action, name="manage_job_action"),
]
