"""The Nova test client and small readers shared by the Nova tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rest_framework.test import APIClient

from identity.models import Project, User

V21 = "/compute/v2.1"
MAX = "2.47"


@dataclass
class Nova:
    """A Nova client: one token, one microversion, on-commit callbacks run after each request."""

    client: APIClient
    token: str
    capture: Callable[..., Any]
    version: str | None = MAX
    project: Project | None = None
    user: User | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def _extra(self, version: str | None) -> dict[str, str]:
        extra = {"HTTP_X_AUTH_TOKEN": self.token}
        chosen = version if version is not None else self.version
        if chosen:
            extra["HTTP_OPENSTACK_API_VERSION"] = f"compute {chosen}"
        return extra

    def call(self, method: str, path: str, body: Any = None, *, version: str | None = None) -> Any:
        """One request; `path` is under /compute/v2.1 unless it starts with /compute."""
        url = path if path.startswith("/compute") else f"{V21}{path}"
        handler = getattr(self.client, method)
        with self.capture(execute=True):
            if body is None:
                return handler(url, **self._extra(version))
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            return handler(url, data, content_type="application/json", **self._extra(version))

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("get", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("post", path, body if body is not None else {}, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("put", path, body if body is not None else {}, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("delete", path, **kw)

    def action(self, server_id: str, name: str, args: Any = None, **kw: Any) -> Any:
        return self.post(f"/servers/{server_id}/action", {name: args}, **kw)

    def boot(self, image: str, flavor: str = "1", network: str | None = None, **attrs: Any) -> dict[str, Any]:
        """POST /servers (202 asserted); the created server's short body."""
        server = {"name": "vm", "imageRef": image, "flavorRef": flavor, "networks": "none"}
        if network is not None:
            server["networks"] = [{"uuid": network}]
        server.update(attrs)
        response = self.post("/servers", {"server": server})
        assert response.status_code == 202, response.content
        return response.json()["server"]

    def show(self, server_id: str) -> dict[str, Any]:
        response = self.get(f"/servers/{server_id}")
        assert response.status_code == 200, response.content
        return response.json()["server"]


def fault(response: Any) -> dict[str, Any]:
    """The single Nova fault of an error answer."""
    body = response.json()
    assert len(body) == 1, body
    return next(iter(body.values()))
