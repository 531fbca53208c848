"""Shared fixtures: users, projects, role assignments (tests.env_plugin sets the data dir).

Tests run against SQLite by default and against PostgreSQL/RabbitMQ when DATABASE_URL /
CELERY_BROKER_URL point at them (as `.ci/run` does).
"""

from __future__ import annotations

import os

import pytest

from tests.factories import ProjectFactory, UserFactory, assign

pytest_plugins = ["tests.live"]


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


def pytest_sessionfinish(session, exitstatus):
    """Remove the private data dir tests.settings made (only that one)."""
    import shutil

    from django.conf import settings

    data_dir = str(getattr(settings, "DATA_DIR", ""))
    if os.path.basename(data_dir).startswith("nefos-test-") and os.environ.get("PORTAL_KEEP_TEST_DATA") != "1":
        shutil.rmtree(data_dir, ignore_errors=True)
