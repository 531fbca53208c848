"""Fixtures of the Cinder tests: the Nova fixtures (fake cluster, booted servers, inline jobs) plus
Cinder clients with real signed tokens whose on-commit callbacks run after each request."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from compute.volume.services.types import seed_volume_types
from identity.models import Project, User
from tests.compute.conftest import (  # noqa: F401 - fixtures shared with the Nova tests
    _resources,
    admin_nova,
    admin_project,
    booted,
    cloud,
    cluster,
    flavors,
    image,
    inline_jobs,
    network,
    nova,
    nova_for,
    on_host,
    other_nova,
    other_project,
    queued_jobs,
    reader_nova,
    run_jobs,
)
from tests.factories import make_token


@dataclass
class Cinder:
    """A Cinder client for one token and project; on-commit callbacks run after each request."""

    client: APIClient
    token: str
    capture: Callable[..., Any]
    project: Project
    version: str | None = None

    def url(self, path: str) -> str:
        """`path` under /volume/v3/{project} unless it is a /volume/ path already."""
        return path if path.startswith("/volume/") or path == "/volume" else f"/volume/v3/{self.project.pk}{path}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request."""
        extra = {"HTTP_X_AUTH_TOKEN": self.token}
        if self.version:
            extra["HTTP_OPENSTACK_API_VERSION"] = f"volume {self.version}"
        handler = getattr(self.client, method)
        with self.capture(execute=True):
            if body is None:
                return handler(self.url(path), **extra)
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            return handler(self.url(path), data, content_type="application/json", **extra)

    def get(self, path: str) -> Any:
        return self.call("get", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("post", path, body if body is not None else {})

    def put(self, path: str, body: Any = None) -> Any:
        return self.call("put", path, body if body is not None else {})

    def delete(self, path: str) -> Any:
        return self.call("delete", path)

    def create(self, size: int = 1, **attrs: Any) -> dict[str, Any]:
        """POST /volumes (202 asserted); the new volume."""
        response = self.post("/volumes", {"volume": {"size": size, **attrs}})
        assert response.status_code == 202, response.content
        return response.json()["volume"]

    def show(self, volume_id: str) -> dict[str, Any]:
        """GET /volumes/{id} (200 asserted)."""
        response = self.get(f"/volumes/{volume_id}")
        assert response.status_code == 200, response.content
        return response.json()["volume"]


@pytest.fixture(autouse=True)
def _types(db) -> None:
    """The seeded volume types exist (bootstrap makes them)."""
    seed_volume_types()


@pytest.fixture
def cinder_for(db, django_capture_on_commit_callbacks) -> Callable[..., Cinder]:
    """`cinder_for(user, project, roles=...)`: a Cinder client with a real token."""

    def make(user: User, project: Project, roles: tuple[str, ...] = ("member", "reader")) -> Cinder:
        return Cinder(APIClient(), make_token(user, project, roles), django_capture_on_commit_callbacks, project)

    return make


@pytest.fixture
def cinder(cinder_for, member, project) -> Cinder:
    """A member of `project`."""
    return cinder_for(member, project)
