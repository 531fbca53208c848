"""Fixtures of image service tests: projects and users with real signed tokens, a Glance client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from identity.models import Project, User
from identity.quota_registry import sync_resources
from tests.factories import ProjectFactory, UserFactory, assign, make_token

PATCH_V21 = "application/openstack-images-v2.1-json-patch"
PATCH_V20 = "application/openstack-images-v2.0-json-patch"
BASE = "/image/v2"


@pytest.fixture(autouse=True)
def _blocks_dir(settings, tmp_path):
    """Each test gets its own block directory (image data is stored as objects)."""
    settings.OBJECTSTORE_BLOCK_DIR = str(tmp_path / "blocks")


@pytest.fixture(autouse=True)
def _resources(db):
    """The declared quota resources exist (objectstore.bytes is charged by uploads)."""
    sync_resources()


@dataclass
class Glance:
    """A test client speaking Glance v2 with one token."""

    client: APIClient
    token: str
    project: Project | None = None

    def _extra(self, headers: dict[str, str]) -> dict[str, str]:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        if self.token:
            extra["HTTP_X_AUTH_TOKEN"] = self.token
        return extra

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(BASE + path, **self._extra(headers))

    def delete(self, path: str, **headers: str) -> Any:
        return self.client.delete(BASE + path, **self._extra(headers))

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        data = json.dumps(body) if body is not None else ""
        return self.client.post(BASE + path, data, content_type="application/json", **self._extra(headers))

    def put_json(self, path: str, body: Any = None, **headers: str) -> Any:
        data = json.dumps(body) if body is not None else ""
        return self.client.put(BASE + path, data, content_type="application/json", **self._extra(headers))

    def patch(self, path: str, ops: Any, content_type: str = PATCH_V21, **headers: str) -> Any:
        data = ops if isinstance(ops, (bytes, str)) else json.dumps(ops)
        return self.client.patch(BASE + path, data, content_type=content_type, **self._extra(headers))

    def upload(self, image_id: str, data: bytes, content_type: str = "application/octet-stream", **headers: str) -> Any:
        return self.client.put(
            f"{BASE}/images/{image_id}/file", data, content_type=content_type, **self._extra(headers)
        )

    def create(self, **attrs: Any) -> dict[str, Any]:
        """Create an image (raw/bare unless told otherwise) and return its body; asserts 201."""
        body = {"disk_format": "raw", "container_format": "bare", **attrs}
        response = self.post("/images", body)
        assert response.status_code == 201, response.content
        return response.json()

    def create_active(self, data: bytes = b"image-bytes", **attrs: Any) -> dict[str, Any]:
        """Create an image and upload its data; returns the image as shown afterwards."""
        image = self.create(**attrs)
        response = self.upload(image["id"], data)
        assert response.status_code == 204, response.content
        return self.get(f"/images/{image['id']}").json()


GlanceFor = Callable[..., Glance]


@pytest.fixture
def glance_for(db) -> GlanceFor:
    """`glance_for(user, project, roles=...)` returns a Glance client with a real token."""

    def make(user: User, project: Project | None, roles: Iterable[str] = ("member", "reader")) -> Glance:
        return Glance(APIClient(), make_token(user, project, roles), project)

    return make


@pytest.fixture
def glance(glance_for, member, project) -> Glance:
    """A member of `project`."""
    return glance_for(member, project)


@pytest.fixture
def other_project(db) -> Project:
    return ProjectFactory()


@pytest.fixture
def other_user(other_project) -> User:
    user = UserFactory()
    assign(user, other_project, "member", "reader")
    return user


@pytest.fixture
def other(glance_for, other_user, other_project) -> Glance:
    """A member of another project."""
    return glance_for(other_user, other_project)


@pytest.fixture
def reader(glance_for, project) -> Glance:
    """A reader-only user of `project`."""
    user = UserFactory()
    assign(user, project, "reader")
    return glance_for(user, project, ("reader",))


@pytest.fixture
def admin(glance_for, admin_user) -> Glance:
    """A cloud admin on the admin project."""
    return glance_for(admin_user, Project.objects.get(name="admin"), ("admin", "member", "reader"))
