"""Identity dashboard URLs: account, projects, API access, and the admin pages under /manage/."""

from django.urls import path

from identity.ui import api_access, auth_views, manage_projects, manage_users, project_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", auth_views.signup, name="signup"),
    path("password/", auth_views.password_change, name="password_change"),
    path("projects/", project_views.project_list, name="project_list"),
    path("projects/apply/", project_views.apply, name="project_apply"),
    path("projects/applications/<int:pk>/cancel/", project_views.cancel_application, name="application_cancel"),
    path("projects/<str:project_id>/", project_views.project_detail, name="project_detail"),
    path("api-access/", api_access.api_access, name="api_access"),
    path("api-access/clouds.yaml", api_access.clouds_yaml, name="clouds_yaml"),
    path("api-access/openrc.sh", api_access.openrc, name="openrc"),
    path("api-access/credentials/", api_access.create_credential, name="credential_create"),
    path("api-access/credentials/<str:credential_id>/delete/", api_access.delete_credential, name="credential_delete"),
    path("manage/users/", manage_users.user_list, name="manage_users"),
    path("manage/users/<str:user_id>/<str:action>/", manage_users.user_status, name="manage_user_status"),
    path("manage/projects/", manage_projects.project_list, name="manage_projects"),
    path("manage/projects/<str:project_id>/quotas/", manage_projects.project_quotas, name="manage_project_quotas"),
    path("manage/applications/", manage_projects.application_list, name="manage_applications"),
    path("manage/applications/<int:pk>/approve/", manage_projects.approve, name="manage_application_approve"),
    path("manage/applications/<int:pk>/deny/", manage_projects.deny, name="manage_application_deny"),
]
