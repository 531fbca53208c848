"""Fixtures of the dashboard tests: roles, quota resources, the catalog, users and logged-in clients."""

from __future__ import annotations

import os

# The live server of the browser tests listens on loopback only.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

import pytest
from django.test import Client

from identity.models import Project, User
from identity.quota_models import Resource
from identity.services import catalog, quotas
from tests.factories import ProjectFactory, UserFactory, assign, default_domain, role

GIB = 1024**3


@pytest.fixture
def portal_setup(db) -> None:
    """What `manage.py bootstrap` provides: the Default domain, built-in roles, resources, the catalog."""
    default_domain()
    for name in ("admin", "member", "reader"):
        role(name)
    Resource.objects.update_or_create(
        name="compute.cores", defaults={"description": "Virtual CPUs", "unit": "", "default_project_limit": 8}
    )
    Resource.objects.update_or_create(
        name="compute.ram",
        defaults={
            "description": "Memory",
            "unit": "bytes",
            "default_project_limit": 16 * GIB,
            "default_user_limit": 8 * GIB,
        },
    )
    catalog.seed_catalog("RegionOne")


@pytest.fixture
def alice(portal_setup) -> User:
    """A member of her own project `alice-project`, with some cores in use."""
    user = UserFactory(name="alice")
    project = ProjectFactory(name="alice-project")
    assign(user, project, "member", "reader")
    quotas.ensure_holdings(project)
    quotas.ensure_holdings(project, user)
    serial = quotas.issue(project, {"compute.cores": 3}, actor=user, client="test", client_key="k1", user=user).serial
    quotas.accept(serial)
    quotas.issue(project, {"compute.cores": 1}, actor=user, client="test", client_key="k2", user=user)
    user.default_project = project
    user.save(update_fields=["default_project"])
    return user


@pytest.fixture
def bob(portal_setup) -> User:
    """Another user, member of `bob-project` only."""
    user = UserFactory(name="bob")
    assign(user, ProjectFactory(name="bob-project"), "member", "reader")
    return user


@pytest.fixture
def staff(portal_setup) -> User:
    """A staff user (Django admin access): may use the dashboard's admin pages."""
    user = UserFactory(name="operator", is_staff=True, is_superuser=True)
    assign(user, ProjectFactory(name="admin"), "admin", "member", "reader")
    return user


@pytest.fixture
def role_admin(portal_setup) -> User:
    """Not staff, but holds the admin role on a project: may use the dashboard's admin pages."""
    user = UserFactory(name="role-admin")
    assign(user, ProjectFactory(name="ops"), "admin")
    return user


def login(user: User) -> Client:
    """A test client signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice) -> Client:
    return login(alice)


@pytest.fixture
def staff_client(staff) -> Client:
    return login(staff)


@pytest.fixture
def alice_project(alice) -> Project:
    return Project.objects.get(name="alice-project")
