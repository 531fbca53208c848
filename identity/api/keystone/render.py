"""Keystone v3 JSON shapes for identity objects, collections and links.

Each function takes a model (and the request, for absolute links under the public URL) and
returns the dict Keystone would; `collection` wraps a list with Keystone's `links` block.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.http import HttpRequest

from identity.models import (
    ApplicationCredential,
    Domain,
    Endpoint,
    Project,
    Role,
    RoleAssignment,
    Service,
    User,
)
from identity.services import catalog

# Keystone echoes an application credential's expiry without a zone suffix.
APP_CRED_TIME = "%Y-%m-%dT%H:%M:%S.%f"


def base_url(request: HttpRequest) -> str:
    """The portal's public base URL (PORTAL_PUBLIC_URL, else the request's scheme and host)."""
    return catalog.public_url(f"{request.scheme}://{request.get_host()}")


def v3_url(request: HttpRequest, path: str = "") -> str:
    """An absolute URL under /identity/v3."""
    return f"{base_url(request)}/identity/v3{'/' + path if path else ''}"


def self_link(request: HttpRequest, path: str) -> dict[str, str]:
    """An entity's `links` block."""
    return {"self": v3_url(request, path)}


def collection_links(request: HttpRequest) -> dict[str, str | None]:
    """A collection's `links {self, previous, next}` (no paging: every list is one page)."""
    return {"self": f"{base_url(request)}{request.get_full_path()}", "previous": None, "next": None}


def collection(request: HttpRequest, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A Keystone collection: the items plus their `links`."""
    return {key: items, "links": collection_links(request)}


def domain_ref(domain: Domain) -> dict[str, str]:
    """The short `{id, name}` form of a domain used inside tokens and assignments."""
    return {"id": domain.pk, "name": domain.name}


def user(request: HttpRequest, obj: User) -> dict[str, Any]:
    """A user as `GET /v3/users/{id}` returns it."""
    data: dict[str, Any] = {
        "id": obj.pk,
        "name": obj.name,
        "domain_id": obj.domain_id,
        "enabled": obj.enabled,
        "password_expires_at": None,
        "options": {},
        "links": self_link(request, f"users/{obj.pk}"),
    }
    if obj.default_project_id:
        data["default_project_id"] = obj.default_project_id
    if obj.email:
        data["email"] = obj.email
    if obj.description:
        data["description"] = obj.description
    return data


def project(request: HttpRequest, obj: Project) -> dict[str, Any]:
    """A project as `GET /v3/projects/{id}` returns it (flat: its parent is its domain)."""
    return {
        "id": obj.pk,
        "name": obj.name,
        "domain_id": obj.domain_id,
        "description": obj.description,
        "enabled": obj.enabled,
        "parent_id": obj.domain_id,
        "is_domain": False,
        "tags": [],
        "options": {},
        "links": self_link(request, f"projects/{obj.pk}"),
    }


def role(request: HttpRequest, obj: Role) -> dict[str, Any]:
    """A (global) role as `GET /v3/roles/{id}` returns it."""
    return {
        "id": obj.pk,
        "name": obj.name,
        "domain_id": None,
        "description": obj.description or None,
        "options": {},
        "links": self_link(request, f"roles/{obj.pk}"),
    }


def domain(request: HttpRequest, obj: Domain) -> dict[str, Any]:
    """A domain as `GET /v3/domains/{id}` returns it."""
    return {
        "id": obj.pk,
        "name": obj.name,
        "description": obj.description,
        "enabled": obj.enabled,
        "tags": [],
        "options": {},
        "links": self_link(request, f"domains/{obj.pk}"),
    }


def service(request: HttpRequest, obj: Service) -> dict[str, Any]:
    """A catalog service as `GET /v3/services/{id}` returns it."""
    return {
        "id": obj.pk,
        "type": obj.type,
        "name": obj.name,
        "description": obj.description,
        "enabled": obj.enabled,
        "links": self_link(request, f"services/{obj.pk}"),
    }


def endpoint(request: HttpRequest, obj: Endpoint) -> dict[str, Any]:
    """An endpoint; the public URL is filled in, the project placeholder stays as Keystone keeps it."""
    return {
        "id": obj.pk,
        "interface": obj.interface,
        "region": obj.region,
        "region_id": obj.region,
        "service_id": obj.service_id,
        "url": obj.url.replace(catalog.PUBLIC, base_url(request)),
        "enabled": obj.enabled,
        "links": self_link(request, f"endpoints/{obj.pk}"),
    }


def region(request: HttpRequest, region_id: str) -> dict[str, Any]:
    """A region (regions exist as the names endpoints carry)."""
    return {
        "id": region_id,
        "description": "",
        "parent_region_id": None,
        "links": self_link(request, f"regions/{region_id}"),
    }


def role_entry(obj: Role) -> dict[str, Any]:
    """A role inside an application credential: `{id, name, domain_id}`."""
    return {"id": obj.pk, "name": obj.name, "domain_id": None}


def app_credential(request: HttpRequest, obj: ApplicationCredential, secret: str | None = None) -> dict[str, Any]:
    """An application credential; the secret only in the creation response."""
    data: dict[str, Any] = {
        "id": obj.pk,
        "name": obj.name,
        "description": obj.description or None,
        "user_id": obj.user_id,
        "project_id": obj.project_id,
        "expires_at": obj.expires_at.astimezone(UTC).strftime(APP_CRED_TIME) if obj.expires_at else None,
        "unrestricted": obj.unrestricted,
        "roles": [role_entry(r) for r in obj.roles.all()],
        "access_rules": [],
        "links": self_link(request, f"users/{obj.user_id}/application_credentials/{obj.pk}"),
    }
    if secret is not None:
        data["secret"] = secret
    return data


def assignment(request: HttpRequest, obj: RoleAssignment, include_names: bool) -> dict[str, Any]:
    """A role assignment as `GET /v3/role_assignments` lists it."""
    role_data: dict[str, Any] = {"id": obj.role_id}
    user_data: dict[str, Any] = {"id": obj.user_id}
    project_data: dict[str, Any] = {"id": obj.project_id}
    if include_names:
        role_data["name"] = obj.role.name
        user_data.update(name=obj.user.name, domain=domain_ref(obj.user.domain))
        project_data.update(name=obj.project.name, domain=domain_ref(obj.project.domain))
    return {
        "role": role_data,
        "user": user_data,
        "scope": {"project": project_data},
        "links": {"assignment": v3_url(request, f"projects/{obj.project_id}/users/{obj.user_id}/roles/{obj.role_id}")},
    }
