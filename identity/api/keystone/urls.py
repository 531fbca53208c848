"""Keystone URLs, mounted at `/identity` (no trailing slash: patterns start with "/" or are empty).

Every route also answers with a trailing slash, since clients differ on that.
"""

from __future__ import annotations

from django.urls import URLPattern, re_path
from django.views import View

from identity.api.keystone import (
    app_credentials,
    assignments,
    catalog,
    domains,
    projects,
    roles,
    tokens,
    users,
    v2,
    versions,
)

ID_SEGMENTS = ("user_id", "project_id", "role_id", "cred_id", "domain_id", "service_id", "endpoint_id", "region_id")
GROUPS = {key: rf"(?P<{key}>[^/]+)" for key in ID_SEGMENTS}


def route(pattern: str, view: type[View], name: str) -> URLPattern:
    """A route for `pattern` (with `{name}` id segments), with or without a trailing slash."""
    return re_path(rf"^{pattern.format(**GROUPS)}/?$", view.as_view(), name=f"keystone-{name}")


urlpatterns = [
    route("", versions.VersionsView, "versions"),
    route("/v3", versions.V3VersionView, "v3"),
    route("/v2.0", versions.V2VersionView, "v2"),
    route("/v2.0/tokens", v2.V2TokensView, "v2-tokens"),
    route("/v3/auth/tokens", tokens.AuthTokensView, "auth-tokens"),
    route("/v3/auth/catalog", tokens.AuthCatalogView, "auth-catalog"),
    route("/v3/auth/projects", tokens.AuthProjectsView, "auth-projects"),
    route("/v3/auth/domains", tokens.AuthDomainsView, "auth-domains"),
    route("/v3/auth/system", tokens.AuthSystemView, "auth-system"),
    route("/v3/users", users.UsersView, "users"),
    route("/v3/users/{user_id}", users.UserView, "user"),
    route("/v3/users/{user_id}/password", users.UserPasswordView, "user-password"),
    route("/v3/users/{user_id}/projects", users.UserProjectsView, "user-projects"),
    route("/v3/users/{user_id}/application_credentials", app_credentials.AppCredentialsView, "app-creds"),
    route("/v3/users/{user_id}/application_credentials/{cred_id}", app_credentials.AppCredentialView, "app-cred"),
    route("/v3/projects", projects.ProjectsView, "projects"),
    route("/v3/projects/{project_id}", projects.ProjectView, "project"),
    route("/v3/projects/{project_id}/users/{user_id}/roles", assignments.ProjectUserRolesView, "grants"),
    route("/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", assignments.ProjectUserRoleView, "grant"),
    route("/v3/role_assignments", assignments.RoleAssignmentsView, "role-assignments"),
    route("/v3/roles", roles.RolesView, "roles"),
    route("/v3/roles/{role_id}", roles.RoleView, "role"),
    route("/v3/domains", domains.DomainsView, "domains"),
    route("/v3/domains/{domain_id}", domains.DomainView, "domain"),
    route("/v3/services", catalog.ServicesView, "services"),
    route("/v3/services/{service_id}", catalog.ServiceView, "service"),
    route("/v3/endpoints", catalog.EndpointsView, "endpoints"),
    route("/v3/endpoints/{endpoint_id}", catalog.EndpointView, "endpoint"),
    route("/v3/regions", catalog.RegionsView, "regions"),
    route("/v3/regions/{region_id}", catalog.RegionView, "region"),
]
