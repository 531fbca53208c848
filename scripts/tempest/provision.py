"""Create tempest's pre-provisioned accounts in a portal's database, through the identity services.

    PORTAL_DATA_DIR=... .venv/bin/python scripts/tempest/provision.py scripts/tempest/accounts.yaml

For each account of a tempest `accounts.yaml`: the project (Default domain), the user with its
password, and each listed role on the project; roles that do not exist yet are created.
Idempotent: existing projects and users are reused, a changed password is reset.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

BASE_DIR = Path(__file__).resolve().parents[2]


def setup_django() -> None:
    """Make the portal's settings and apps importable from this script."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def provision(account: dict[str, Any]) -> str:
    """Create or update one account; returns a one-line summary."""
    from identity.models import DEFAULT_DOMAIN_ID, Project, Role, User
    from identity.services import projects, roles, users

    for key in ("user_domain_name", "project_domain_name"):
        if account.get(key, "Default") != "Default":
            raise SystemExit(f"{account['username']}: only the Default domain exists ({key}={account[key]})")
    project = Project.objects.filter(domain_id=DEFAULT_DOMAIN_ID, name=account["project_name"]).first()
    if project is None:
        project = projects.create_project(account["project_name"], actor=None, description="tempest account")
    user = User.objects.filter(domain_id=DEFAULT_DOMAIN_ID, name=account["username"]).first()
    if user is None:
        user = users.create_user(account["username"], account["password"], actor=None, default_project=project)
    elif not user.check_password(account["password"]) or not user.is_active:
        user = users.update_user(user, actor=None, password=account["password"], enabled=True)
    for name in account.get("roles", []):
        role = Role.objects.filter(name=name).first() or roles.create_role(name, actor=None)
        roles.assign_role(user, project, role, actor=None)
    return f"{user.name} on {project.name}: {', '.join(account.get('roles', []))}"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts", type=Path, help="a tempest accounts.yaml")
    args = parser.parse_args(argv)
    accounts = yaml.safe_load(args.accounts.read_text()) or []
    setup_django()
    for account in accounts:
        sys.stdout.write(f"provisioned {provision(account)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
