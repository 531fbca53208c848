"""Client configuration files for OpenStack tools: clouds.yaml, openrc.sh, application credential snippets.

None of them holds a password: clouds.yaml users add theirs (or use an application credential),
openrc.sh asks for it when sourced.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import yaml
from django.conf import settings

from identity.models import ApplicationCredential, Project, User

CLOUD_NAME = "nefos"


def auth_url(base: str) -> str:
    """The Keystone v3 endpoint clients authenticate against."""
    return f"{base.rstrip('/')}/identity/v3"


def cloud_name(project: Project) -> str:
    """A clouds.yaml entry name for a project, e.g. `nefos-myproject`."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", project.name).strip("-") or project.pk
    return f"{CLOUD_NAME}-{slug}"


def _dump(clouds: dict[str, Any]) -> str:
    return yaml.safe_dump({"clouds": clouds}, default_flow_style=False, sort_keys=False)


def clouds_yaml(user: User, project: Project, base: str) -> str:
    """A clouds.yaml for password authentication of `user` scoped to `project` (no password in it)."""
    entry = {
        "auth": {
            "auth_url": auth_url(base),
            "username": user.name,
            "project_name": project.name,
            "user_domain_name": user.domain.name,
            "project_domain_name": project.domain.name,
        },
        "region_name": settings.PORTAL_REGION,
        "interface": "public",
        "identity_api_version": 3,
    }
    return _dump({cloud_name(project): entry})


def app_credential_yaml(cred: ApplicationCredential, secret: str, base: str) -> str:
    """A clouds.yaml entry that authenticates with an application credential."""
    entry = {
        "auth_type": "v3applicationcredential",
        "auth": {
            "auth_url": auth_url(base),
            "application_credential_id": cred.pk,
            "application_credential_secret": secret,
        },
        "region_name": settings.PORTAL_REGION,
        "interface": "public",
        "identity_api_version": 3,
    }
    return _dump({f"{cloud_name(cred.project)}-{cred.name}": entry})


def openrc(user: User, project: Project, base: str) -> str:
    """A shell script that exports OS_* variables and asks for the password when sourced."""
    variables = {
        "OS_AUTH_URL": auth_url(base),
        "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": user.name,
        "OS_PROJECT_NAME": project.name,
        "OS_PROJECT_ID": project.pk,
        "OS_USER_DOMAIN_NAME": user.domain.name,
        "OS_PROJECT_DOMAIN_NAME": project.domain.name,
        "OS_REGION_NAME": settings.PORTAL_REGION,
        "OS_INTERFACE": "public",
    }
    lines = [
        "#!/usr/bin/env sh",
        f"# Nefos credentials for project {project.name}; use: . ./openrc.sh",
        "unset OS_TOKEN OS_AUTH_TYPE OS_APPLICATION_CREDENTIAL_ID OS_APPLICATION_CREDENTIAL_SECRET",
        *(f"export {name}={shlex.quote(value)}" for name, value in variables.items()),
        f'printf "Password for %s: " {shlex.quote(user.name)}',
        "stty -echo 2>/dev/null; read -r OS_PASSWORD; stty echo 2>/dev/null; echo",
        "export OS_PASSWORD",
        "",
    ]
    return "\n".join(lines)
