"""File browser URLs, under `/files/` in the dashboard (container names never hold a slash)."""

from django.urls import path

from objectstore.ui import actions, views

urlpatterns = [
    path("", views.container_list, name="files"),
    path("new/", actions.container_create, name="files_container_create"),
    path("c/<str:container>/", views.browse, name="files_browse"),
    path("c/<str:container>/delete/", actions.container_delete, name="files_container_delete"),
    path("c/<str:container>/versioning/", actions.versioning, name="files_versioning"),
    path("c/<str:container>/upload/", actions.upload, name="files_upload"),
    path("c/<str:container>/folder/", actions.folder_create, name="files_folder"),
    path("c/<str:container>/object/", views.object_detail, name="files_object"),
    path("c/<str:container>/download/", views.download, name="files_download"),
    path("c/<str:container>/delete-object/", actions.object_delete, name="files_object_delete"),
    path("c/<str:container>/share/", actions.share, name="files_share"),
    path("c/<str:container>/public/", actions.make_public, name="files_public"),
    path("c/<str:container>/restore/", actions.restore, name="files_restore"),
]
