"""Shared fixtures: a private data dir, factories, token helpers.

Tests run against SQLite by default and against PostgreSQL/RabbitMQ when DATABASE_URL /
CELERY_BROKER_URL point at them (as `.ci/run` does).
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("PORTAL_DATA_DIR", tempfile.mkdtemp(prefix="nefos-test-"))
os.environ.setdefault("PORTAL_FAST_PASSWORD_HASHING", "1")

import pytest

from tests.factories import ProjectFactory, UserFactory, assign


@pytest.fixture(autouse=True)
def _fresh_revocation_view():
    """Each test starts with an empty in-process revocation view (the DB is fresh too)."""
    from identity.tokens import revocations

    revocations.clear()
    yield
    revocations.clear()


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def member(db, project):
    """A user with the member and reader roles on `project`."""
    user = UserFactory()
    assign(user, project, "member", "reader")
    return user


@pytest.fixture
def admin_user(db):
    """A cloud admin: the admin role on the admin project."""
    user = UserFactory(name="cloud-admin", is_staff=True, is_superuser=True)
    admin_project = ProjectFactory(name="admin")
    assign(user, admin_project, "admin", "member", "reader")
    return user
