"""Schemathesis over the portal's own OpenAPI schema (`/api/`): no input makes a server error.

The schema is drf-spectacular's, generated in-process; every operation is called through the
Django WSGI application with generated path parameters, query strings and bodies, once as a
member and once as an admin. Admin operations that would make the portal contact a cluster
address taken from the generated input (creating or re-pointing a cluster) are left out: the
tests never talk to anything but this process.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.factories import ProjectFactory, UserFactory, assign, make_token

# Real commits, as in production: a request the database refuses must not poison the next one.
pytestmark = pytest.mark.django_db(transaction=True)


def _schema() -> schemathesis.BaseSchema:
    """The portal API's schema, calling the portal's WSGI application."""
    import django

    django.setup()
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = WSGIHandler()
    return loaded


schema = _schema()
# Creating or re-pointing a cluster takes its RAPI/agent address from the request body.
CONTACTS_A_CLUSTER = schema.exclude(path="/api/admin/clusters/", method="POST").exclude(
    path="/api/admin/clusters/{name}/", method="PATCH"
)
FUZZ = hypothesis_settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Keep the test's database connection open across requests, as Django's test client does.

    A real WSGI handler closes old connections when a request starts and ends; on PostgreSQL that
    would close the connection holding the test's transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def member_token() -> str:
    """A member of one project."""
    user, project = UserFactory(name="fuzz-member"), ProjectFactory(name="fuzz-project")
    assign(user, project, "member", "reader")
    return make_token(user, project)


@pytest.fixture
def admin_token() -> str:
    """An admin of the admin project."""
    user, project = UserFactory(name="fuzz-admin"), ProjectFactory(name="admin")
    assign(user, project, "admin", "member", "reader")
    return make_token(user, project, ("admin", "member", "reader"))


def _no_server_error(case: schemathesis.Case, token: str) -> None:
    response = case.call(headers={"X-Auth-Token": token})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )


@schema.parametrize()
@FUZZ
def test_portal_api_answers_without_server_error_when_fuzzed_as_member(case, member_token):
    _no_server_error(case, member_token)


@CONTACTS_A_CLUSTER.parametrize()
@FUZZ
def test_portal_api_answers_without_server_error_when_fuzzed_as_admin(case, admin_token):
    _no_server_error(case, admin_token)
