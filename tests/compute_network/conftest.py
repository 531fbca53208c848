"""Fixtures of the Neutron tests: quota resources, real signed tokens, API clients and small builders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from rest_framework.test import APIClient

from compute.network.services import topology
from identity.models import Project, User
from identity.quota_registry import sync_resources
from tests.factories import ProjectFactory, UserFactory, assign, make_token


@pytest.fixture(autouse=True)
def _quota_resources(db) -> None:
    """The declared quota resources exist (bootstrap makes them in a real deployment)."""
    sync_resources()


@pytest.fixture
def token_for(db) -> Callable[..., str]:
    """`token_for(user, project, roles)`: a valid signed token for that scope."""

    def make(user: User, project: Project | None, roles: Iterable[str] = ("member", "reader")) -> str:
        return make_token(user, project, roles)

    return make


@pytest.fixture
def api() -> Callable[[str | None], APIClient]:
    """`api(token)`: a DRF test client sending `X-Auth-Token: token`."""

    def make(token: str | None = None) -> APIClient:
        client = APIClient()
        if token:
            client.credentials(HTTP_X_AUTH_TOKEN=token)
        return client

    return make


@pytest.fixture
def admin_project(admin_user) -> Project:
    """The admin project (made with the admin user)."""
    return Project.objects.get(name="admin")


@pytest.fixture
def admin_api(api, token_for, admin_user, admin_project) -> APIClient:
    """An admin on the admin project."""
    return api(token_for(admin_user, admin_project, ("admin", "member", "reader")))


@pytest.fixture
def member_api(api, token_for, member, project) -> APIClient:
    """A member of `project`."""
    return api(token_for(member, project))


@pytest.fixture
def other_project(db) -> Project:
    """A second, unrelated project."""
    return ProjectFactory()


@pytest.fixture
def other_member(other_project) -> User:
    """A member of `other_project` only."""
    user = UserFactory()
    assign(user, other_project, "member", "reader")
    return user


@pytest.fixture
def other_token(token_for, other_member, other_project) -> str:
    """A token of the outsider."""
    return token_for(other_member, other_project)


@pytest.fixture
def other_api(api, other_token) -> APIClient:
    """A member of `other_project`."""
    return api(other_token)


@pytest.fixture
def reader_api(api, token_for, project) -> APIClient:
    """A reader-only user of `project`."""
    user = UserFactory()
    assign(user, project, "reader")
    return api(token_for(user, project, ("reader",)))


@pytest.fixture
def public_net(admin_project) -> dict[str, Any]:
    """The external network `public` (203.0.113.0/24, admin-owned), as ids."""
    network = topology.ensure_public_network(project=admin_project)
    return {"id": str(network.pk), "subnet_id": str(network.subnets.get().pk)}
