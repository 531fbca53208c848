"""Tempest's response schemas for Nova (tempest/lib/api_schema/response/compute/v2_*), when available.

Tempest is not a dependency of the portal: the schemas are found in an importable `tempest`, in
the source tree named by TEMPEST_SRC, or in the conformance virtualenv (.venv-tempest). Without
any of them the schema tests skip. `schema(file, name, version)` picks the module tempest itself
would use for that microversion: the highest `v2_N` <= version that defines `file`.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _add_sources() -> bool:
    try:
        importlib.import_module("tempest.lib.api_schema.response.compute.v2_1.servers")
        return True
    except ImportError:
        pass
    candidates = [os.environ.get("TEMPEST_SRC", "")]
    candidates += [str(p) for p in (REPO / ".venv-tempest" / "lib").glob("python3*/site-packages")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "tempest" / "lib" / "api_schema").is_dir():
            sys.path.append(candidate)
            return True
    return False


def require() -> Any:
    """Tempest's validator module (skips the test when tempest's schemas are not available)."""
    if not _add_sources():
        pytest.skip("tempest's schemas are not available (set TEMPEST_SRC or run make conformance once)")
    return importlib.import_module("tempest.lib.common.jsonschema_validator")


def _dirs() -> list[tuple[int, Path]]:
    base = Path(importlib.import_module("tempest.lib.api_schema.response.compute").__file__).parent
    found = []
    for path in base.glob("v2_*"):
        found.append((int(path.name.split("_")[1]), path))
    return sorted(found)


def schema(file: str, name: str, version: str) -> dict[str, Any]:
    """Tempest's `name` schema of `file` (servers, flavors, ...) at microversion `version`: from the
    newest module <= version that defines it (tempest's clients use v2_1's for the rest)."""
    minor = int(version.split(".")[1])
    chosen = None
    for number, path in _dirs():
        if number <= minor and (path / f"{file}.py").exists():
            module = importlib.import_module(f"tempest.lib.api_schema.response.compute.{path.name}.{file}")
            chosen = getattr(module, name, chosen)
    assert chosen is not None, f"tempest has no {file}.{name}"
    return chosen


def assert_valid(response: Any, file: str, name: str, version: str) -> None:
    """The response has the status and body tempest's schema allows (as tempest checks it)."""
    validator = require()
    spec = schema(file, name, version)
    assert response.status_code in spec["status_code"], (response.status_code, response.content[:500])
    if "response_body" in spec:
        body = response.json()
        checker = validator.JSONSCHEMA_VALIDATOR(spec["response_body"], format_checker=validator.FORMAT_CHECKER)
        errors = sorted(checker.iter_errors(body), key=str)
        assert not errors, f"{file}.{name}@{version}: {errors[0].message} at {list(errors[0].absolute_path)}"
