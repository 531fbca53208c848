"""Fixtures for backend_ganeti tests: the running Ganeti lab's endpoints (NEFOS_LAB_RAPI)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from backend_ganeti.rapi import RapiClient


def lab_endpoints() -> list[dict]:
    """Clusters listed by NEFOS_LAB_RAPI (a JSON document or the path of one), else []."""
    raw = os.environ.get("NEFOS_LAB_RAPI", "").strip()
    if not raw:
        return []
    text = raw if raw.startswith("{") else Path(raw).read_text()
    return list(json.loads(text)["clusters"])


@pytest.fixture(scope="session")
def lab() -> dict[str, dict]:
    """The lab's clusters by short name ("a", "b"); skips when no lab is running."""
    clusters = lab_endpoints()
    if not clusters:
        pytest.skip("NEFOS_LAB_RAPI is not set: no Ganeti lab (run `make lab-test`)")
    return {c["name"]: c for c in clusters}


def client_for(endpoint: dict, **overrides) -> RapiClient:
    """A RAPI client for one lab cluster (TLS verified against the lab's CA file)."""
    options = {
        "username": endpoint["username"],
        "password": endpoint["password"],
        "ca_file": endpoint["ca_file"],
        "cluster": endpoint["cluster_name"],
    }
    options.update(overrides)
    return RapiClient(endpoint["url"], **options)


@pytest.fixture(scope="session")
def rapi_a(lab):
    """Client of cluster A (the one with two nodes when the lab has them)."""
    client = client_for(lab["a"])
    yield client
    client.close()


@pytest.fixture(scope="session")
def rapi_b(lab):
    """Client of cluster B; skips when the lab has no cluster B."""
    if "b" not in lab:
        pytest.skip("the lab has no cluster B")
    client = client_for(lab["b"])
    yield client
    client.close()
