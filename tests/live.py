"""Live-server fixtures for real OpenStack clients (a pytest plugin: `pytest_plugins = ["tests.live"]`).

`portal` starts pytest-django's threaded live server on 127.0.0.1 (transactional database),
runs `manage.py bootstrap` with a known admin password, and describes the running portal
(`portal.session(...)` gives a keystoneauth1 session for SDK-style clients).
`clouds` writes a clouds.yaml into a temporary directory for CLI subprocesses, and `openstack`
runs the `openstack` CLI of this virtualenv against it. Compute and object-store tests reuse
them: add a cloud for their own user with `clouds.add(...)`, then call `openstack(..., cloud=name)`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ADMIN_NAME = "admin"
ADMIN_PASSWORD = "live-admin-pass"
ADMIN_PROJECT = "admin"
REGION = "RegionOne"
CLI_TIMEOUT = 120


def pytest_configure(config: pytest.Config) -> None:
    """Make the live server listen on loopback IPv4 only, unless told otherwise."""
    os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


@dataclass(frozen=True)
class LivePortal:
    """A running, bootstrapped portal: where it is and how to log in as its admin."""

    url: str
    admin_name: str = ADMIN_NAME
    admin_password: str = ADMIN_PASSWORD
    admin_project: str = ADMIN_PROJECT
    region: str = REGION

    @property
    def auth_url(self) -> str:
        """The Keystone v3 URL clients authenticate against."""
        return f"{self.url}/identity/v3"

    def session(self, username: str | None = None, password: str | None = None, project: str | None = None) -> Any:
        """A keystoneauth1 session (v3 password, Default domain); the admin on its project by default."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        auth = v3.Password(
            auth_url=self.auth_url,
            username=username or self.admin_name,
            password=password or self.admin_password,
            project_name=project or (None if username else self.admin_project),
            user_domain_id="default",
            project_domain_id="default",
        )
        return session.Session(auth=auth)

    def password_auth(self, username: str, password: str, project: str | None) -> dict[str, Any]:
        """The `auth` section of a clouds.yaml entry (user and project in the Default domain)."""
        auth: dict[str, Any] = {
            "auth_url": self.auth_url,
            "username": username,
            "password": password,
            "user_domain_name": "Default",
        }
        if project:
            auth.update(project_name=project, project_domain_name="Default")
        return auth


@pytest.fixture
def portal(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> LivePortal:
    """The live portal, bootstrapped (Default domain, roles, admin user and project, catalog)."""
    from django.core.management import call_command

    from identity.tokens import revocations

    monkeypatch.setenv("PORTAL_ADMIN_PASSWORD", ADMIN_PASSWORD)
    call_command(
        "bootstrap",
        "--admin-name",
        ADMIN_NAME,
        "--admin-project",
        ADMIN_PROJECT,
        "--region",
        REGION,
        stdout=io.StringIO(),
    )
    revocations.clear()
    return LivePortal(url=live_server.url)


@dataclass
class Clouds:
    """A clouds.yaml in a private directory, with one `admin` cloud to start with."""

    portal: LivePortal
    directory: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        """The clouds.yaml file (OS_CLIENT_CONFIG_FILE)."""
        return self.directory / "clouds.yaml"

    def add(self, name: str, auth: dict[str, Any], *, auth_type: str | None = None) -> str:
        """Add (or replace) a cloud and rewrite the file; returns the cloud's name."""
        entry: dict[str, Any] = {
            "auth": {"auth_url": self.portal.auth_url, **auth},
            "region_name": self.portal.region,
            "interface": "public",
            "identity_api_version": 3,
        }
        if auth_type:
            entry["auth_type"] = auth_type
        self.entries[name] = entry
        self.path.write_text(yaml.safe_dump({"clouds": self.entries}))
        return name

    def add_user(self, name: str, username: str, password: str, project: str | None) -> str:
        """Add a password cloud for a user, scoped to `project` (in the Default domain)."""
        return self.add(name, self.portal.password_auth(username, password, project))

    def add_app_credential(self, name: str, cred_id: str, secret: str) -> str:
        """Add a cloud that authenticates with an application credential."""
        auth = {"application_credential_id": cred_id, "application_credential_secret": secret}
        return self.add(name, auth, auth_type="v3applicationcredential")

    def env(self, cloud: str) -> dict[str, str]:
        """The environment for a CLI subprocess using `cloud` (no OS_* leaking in from outside)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("OS_")}
        env.update(
            OS_CLIENT_CONFIG_FILE=str(self.path),
            OS_CLOUD=cloud,
            HOME=str(self.directory),
            XDG_CACHE_HOME=str(self.directory / "cache"),
            XDG_CONFIG_HOME=str(self.directory / "config"),
        )
        return env


@pytest.fixture
def clouds(portal: LivePortal, tmp_path_factory: pytest.TempPathFactory) -> Clouds:
    """A clouds.yaml with an `admin` cloud (admin user on the admin project)."""
    result = Clouds(portal, tmp_path_factory.mktemp("clouds"))
    result.add_user("admin", portal.admin_name, portal.admin_password, portal.admin_project)
    return result


@dataclass(frozen=True)
class CliResult:
    """What one CLI run printed."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The parsed output of a `-f json` command."""
        return json.loads(self.stdout)


OpenStackCli = Callable[..., CliResult]


def openstack_executable() -> str:
    """The `openstack` script of the virtualenv running the tests."""
    return str(Path(sys.executable).with_name("openstack"))


@pytest.fixture
def openstack(clouds: Clouds) -> OpenStackCli:
    """`openstack("token", "issue", "-f", "json", cloud="admin", check=True)` runs the real CLI."""

    def run(*args: str, cloud: str = "admin", check: bool = True) -> CliResult:
        completed = subprocess.run(
            [openstack_executable(), *args],
            env=clouds.env(cloud),
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        result = CliResult(tuple(args), completed.returncode, completed.stdout, completed.stderr)
        if check and completed.returncode != 0:
            pytest.fail(f"openstack {' '.join(args)} exited {completed.returncode}:\n{completed.stderr[-2000:]}")
        return result

    return run
