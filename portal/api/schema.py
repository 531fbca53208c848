"""OpenAPI schema hooks (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


def only_portal_api(endpoints: list[tuple[str, str, str, Any]], **_kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """Keep the portal's own REST API; the OpenStack-compatible APIs are documented by OpenStack."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the Keystone token header to OpenAPI clients."""

    target_class = "portal.api.authentication.TokenAuthentication"
    name = "KeystoneToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Auth-Token",
            "description": "A Keystone token from POST /identity/v3/auth/tokens.",
        }
