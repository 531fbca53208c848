"""Create tempest's pre-provisioned accounts in a portal's database, through the identity services.

    PORTAL_DATA_DIR=... .venv/bin/python scripts/tempest/provision.py scripts/tempest/accounts.yaml \
        [--substitutions OUT]

For each account of a tempest `accounts.yaml`: the project (Default domain), the user with its
password, and each listed role on the project; roles that do not exist yet are created.
Idempotent: existing projects and users are reused, a changed password is reset.

With `--substitutions OUT` it also prepares what tempest's compute, image and network tests need
and writes `@NAME@=value` lines (for scripts/conformance.sh's tempest.conf.in): the seeded public
image `cirros-0.6-simulated` (@IMAGE_REF@) and a second public image with the same bytes
(@IMAGE_REF_ALT@), the external network `public` (@PUBLIC_NETWORK_ID@), and the shared network
@FIXED_NETWORK@ with one IPv4 subnet that every test server plugs into (tempest's
`fixed_network_name`: pre-provisioned accounts have no network of their own).
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


SEED_IMAGE_NAME = "cirros-0.6-simulated"
ALT_IMAGE_NAME = "cirros-0.6-simulated-alt"
FIXED_NETWORK = "tempest-shared"
FIXED_CIDR = "10.250.0.0/16"


def alt_image(seed: Any, admin_project: Any) -> Any:
    """A second public image (tempest's image_ref_alt) with the seed's bytes, made once by name."""
    import io

    from compute.image.models import Image
    from compute.image.services import data, images
    from compute.image.services import seed as seeding
    from compute.image.states import Status

    # The same authority bootstrap acts with when it seeds the default image.
    ctx = seeding._system_ctx(admin_project)
    image = Image.objects.filter(project=admin_project, name=ALT_IMAGE_NAME).order_by("created_at").first()
    if image is None:
        attrs = {"name": ALT_IMAGE_NAME, "disk_format": seed.disk_format, "container_format": seed.container_format}
        image = images.create_image(ctx, {**attrs, "visibility": "public", "min_disk": 0, "min_ram": 0}, actor=None)
    if image.status == Status.QUEUED:
        content = seeding.seed_content()
        image = data.upload_image_data(ctx, image.id, io.BytesIO(content).read, length=len(content), actor=None)
    return image


def resources() -> dict[str, str]:
    """Find or make the image and network resources tempest.conf names; returns the substitutions."""
    from compute.image.models import Image
    from compute.network.models import Network
    from compute.network.services.networks import NetworkSpec, create_network
    from compute.network.services.subnets import SubnetSpec, create_subnet
    from identity.models import DEFAULT_DOMAIN_ID, Project

    admin_project = Project.objects.get(
        domain_id=DEFAULT_DOMAIN_ID, name=os.environ.get("PORTAL_ADMIN_PROJECT") or "admin"
    )
    seed = Image.objects.filter(name=SEED_IMAGE_NAME).order_by("created_at").first()
    if seed is None:
        raise SystemExit(f"the seeded image {SEED_IMAGE_NAME} is missing: run `manage.py bootstrap` first")
    public = Network.objects.filter(name="public", external=True).first()
    if public is None:
        raise SystemExit("the external network `public` is missing: run `manage.py bootstrap` first")
    fixed = Network.objects.filter(name=FIXED_NETWORK, shared=True).first()
    if fixed is None:
        fixed = create_network(admin_project, NetworkSpec(name=FIXED_NETWORK, shared=True), actor=None)
        create_subnet(admin_project, fixed, SubnetSpec(cidr=FIXED_CIDR, name=f"{FIXED_NETWORK}-subnet"), actor=None)
    return {
        "IMAGE_REF": str(seed.id),
        "IMAGE_REF_ALT": str(alt_image(seed, admin_project).id),
        "PUBLIC_NETWORK_ID": str(public.id),
        "FIXED_NETWORK": FIXED_NETWORK,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts", type=Path, help="a tempest accounts.yaml")
    parser.add_argument("--substitutions", type=Path, help="write @NAME@=value lines for tempest.conf.in here")
    args = parser.parse_args(argv)
    accounts = yaml.safe_load(args.accounts.read_text()) or []
    setup_django()
    for account in accounts:
        sys.stdout.write(f"provisioned {provision(account)}\n")
    if args.substitutions:
        values = resources()
        args.substitutions.write_text("".join(f"@{name}@={value}\n" for name, value in values.items()))
        sys.stdout.write(f"tempest resources: {values}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
