"""Fixtures of identity tests: real signed tokens, an API client, quota resources."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import pytest
from rest_framework.test import APIClient

from identity import tokens
from identity.models import Project, User
from identity.quota_models import Resource
from identity.tokens import TokenContext

TokenFor = Callable[..., str]


@pytest.fixture
def token_for(db) -> TokenFor:
    """`token_for(user, project, roles)` returns a valid signed token string for that scope."""

    def make(user: User, project: Project | None = None, roles: Iterable[str] = ("member", "reader")) -> str:
        now = time.time()
        ctx = TokenContext(
            user_id=user.pk,
            user_name=user.name,
            user_domain_id=user.domain_id,
            project_id=project.pk if project is not None else None,
            project_name=project.name if project is not None else None,
            project_domain_id=project.domain_id if project is not None else None,
            roles=tuple(roles),
            methods=("password",),
            issued_at=now,
            expires_at=now + 3600,
            audit_id=tokens.new_audit_id(),
        )
        return tokens.encode(ctx)

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
