"""The portal's OpenAPI schema at /api/schema/."""

from __future__ import annotations

import pytest
import yaml


@pytest.mark.django_db
def test_schema_lists_portal_api_with_token_scheme_when_fetched(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = set(schema["paths"])
    assert {"/api/projects/", "/api/projects/{id}/quotas/", "/api/applications/", "/api/audit/"} <= paths
    assert all(path.startswith("/api/") for path in paths)
    scheme = schema["components"]["securitySchemes"]["KeystoneToken"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "A Keystone token from POST /identity/v3/auth/tokens.",
    }
