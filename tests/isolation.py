"""The shared isolation check: a caller from another project gets 403 or 404, and never data.

Every API's test suite parametrises `assert_isolated` over its endpoints: build the foreign
objects, take a token of a user who has no business with them, list the requests that name
them, and list the strings (ids, names) that must not appear in any answer.

A forbidden string that the probe itself sends (in its URL or body) is not checked for that
probe: echoing back an id the caller already knows ("Could not find server: <id>") leaks nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rest_framework.test import APIClient

ALLOWED = (403, 404)


@dataclass(frozen=True)
class Probe:
    """One request an outsider makes against someone else's object."""

    method: str
    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


ProbeLike = Probe | tuple[str, str] | tuple[str, str, Any]


def as_probe(item: ProbeLike) -> Probe:
    """Accept `Probe`s or `(method, url[, body])` tuples."""
    if isinstance(item, Probe):
        return item
    method, url, *rest = item
    return Probe(method, url, rest[0] if rest else None)


def send(client: APIClient, token: str, probe: Probe) -> Any:
    """Send one probe with `X-Auth-Token: token` (and the probe's extra headers)."""
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in probe.headers.items()}
    extra["HTTP_X_AUTH_TOKEN"] = token
    handler = getattr(client, probe.method.lower())
    if probe.body is None:
        return handler(probe.url, **extra)
    return handler(probe.url, probe.body, format="json", **extra)


def assert_isolated(
    client: APIClient,
    token: str,
    requests: Iterable[ProbeLike],
    forbidden: Sequence[str] = (),
    allowed: Sequence[int] = ALLOWED,
) -> None:
    """Assert each request answers 403/404 and its body holds none of the `forbidden` strings."""
    for item in requests:
        probe = as_probe(item)
        response = send(client, token, probe)
        assert response.status_code in allowed, f"{probe} -> {response.status_code}: {response.content[:300]!r}"
        sent = probe.url + json.dumps(probe.body) + json.dumps(probe.headers)
        text = response.content.decode("utf-8", "replace")
        for value in forbidden:
            if value and value not in sent:
                assert value not in text, f"{probe} leaked {value!r}: {text[:300]}"
