"""Fixtures of object store tests: signed tokens, a Swift test client, a private block store."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.test import Client

from identity.models import Project, User
from identity.quota_registry import sync_resources
from objectstore.blocks import FilesystemBlockStore
from tests.factories import ProjectFactory, UserFactory, assign, make_token


@pytest.fixture(autouse=True)
def _blocks_dir(settings, tmp_path):
    """Each test gets its own block directory (no block survives into another test)."""
    settings.OBJECTSTORE_BLOCK_DIR = str(tmp_path / "blocks")


@pytest.fixture
def store(settings) -> FilesystemBlockStore:
    """The block store the services use in this test."""
    from objectstore.blocks import block_store

    return block_store()


RAW_KEYS = ("HTTP_", "CONTENT_", "wsgi.")


@dataclass
class Swift:
    """A Django test client speaking Swift for one token and account."""

    client: Client
    token: str
    account: str

    def url(self, *parts: str) -> str:
        """The percent-encoded URL of an account, container or object (as real clients send it)."""
        return "/".join([f"/v1/{self.account}", *(quote(p, safe="/") for p in parts)])

    def request(self, method: str, path: str, data: bytes = b"", query: dict | None = None, **headers: str):
        extra = {
            ("CONTENT_TYPE" if k == "content_type" else k if k.startswith(RAW_KEYS) else f"HTTP_{k.upper()}"): v
            for k, v in headers.items()
        }
        if self.token:
            extra.setdefault("HTTP_X_AUTH_TOKEN", self.token)
        if method in ("PUT", "POST") and "CONTENT_TYPE" not in extra:
            extra["CONTENT_TYPE"] = ""
        if query:
            extra["QUERY_STRING"] = urlencode(query)
        return self.client.generic(method, path, data, **extra)

    def __call__(self, method: str, *parts: str, data: bytes = b"", query: dict | None = None, **headers: str):
        return self.request(method, self.url(*parts), data, query, **headers)


@pytest.fixture
def swift_project(db) -> Project:
    """The project whose account the tests use, with the quota resource synced."""
    sync_resources()
    return ProjectFactory()


@pytest.fixture
def swift_user(swift_project) -> User:
    user = UserFactory()
    assign(user, swift_project, "member", "reader")
    return user


SwiftFor = Callable[..., Swift]


@pytest.fixture
def swift_for(db) -> SwiftFor:
    """`swift_for(user, project, roles=..., account=...)` returns a Swift client."""

    def make(user: User, project: Project, roles: Iterable[str] = ("member", "reader"), account: str = "") -> Swift:
        return Swift(Client(), make_token(user, project, roles), account or f"AUTH_{project.pk}")

    return make


@pytest.fixture
def swift(swift_for, swift_user, swift_project) -> Swift:
    """A member's Swift client on their own account."""
    return swift_for(swift_user, swift_project)
