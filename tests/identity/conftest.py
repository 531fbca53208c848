"""Fixtures of identity tests: real signed tokens, an API client, quota resources."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from rest_framework.test import APIClient

from identity.models import Project, User
from identity.quota_models import Resource
from tests.factories import make_token

TokenFor = Callable[..., str]


@pytest.fixture
def token_for(db) -> TokenFor:
    """`token_for(user, project, roles)` returns a valid signed token string for that scope."""

    def make(user: User, project: Project | None = None, roles: Iterable[str] = ("member", "reader")) -> str:
        return make_token(user, project, roles)

    return make


@pytest.fixture
def api() -> Callable[[str | None], APIClient]:
    """`api(token)` returns a DRF test client that sends `X-Auth-Token: token`."""

    def make(token: str | None = None) -> APIClient:
        client = APIClient()
        if token:
            client.credentials(HTTP_X_AUTH_TOKEN=token)
        return client

    return make


@pytest.fixture
def resources(db) -> dict[str, Resource]:
    """Two quota resources: `test.cores` (project default 10, user default 4) and `test.ram` (no user limit)."""
    cores = Resource.objects.create(
        name="test.cores", description="Virtual CPUs", unit="", default_project_limit=10, default_user_limit=4
    )
    ram = Resource.objects.create(name="test.ram", description="Memory", unit="MiB", default_project_limit=4096)
    return {"test.cores": cores, "test.ram": ram}


@pytest.fixture
def admin_api(api, token_for, admin_user) -> APIClient:
    """A client with an admin token on the admin project."""
    return api(token_for(admin_user, Project.objects.get(name="admin"), ("admin", "member", "reader")))


@pytest.fixture
def member_api(api, token_for, member, project) -> APIClient:
    """A client with a member token of `member` on `project`."""
    return api(token_for(member, project))
