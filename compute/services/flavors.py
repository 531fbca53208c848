"""Flavors: created and deleted by admins, public or shared with projects, with extra specs.

A flavor's `nefos:disk_template` extra spec picks the backend disk template of its servers (else
settings.COMPUTE_DEFAULT_DISK_TEMPLATE, "file" for the embedded host). `seed_default_flavors`
makes the m1.* flavors `bootstrap` offers on a fresh portal.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from compute.models import Flavor, FlavorQuerySet
from identity.models import Project
from identity.tokens import TokenContext
from portal import audit
from portal.errors import Conflict, NotFound, ValidationFailed

DISK_TEMPLATE_SPEC = "nefos:disk_template"
DISK_TEMPLATES = ("diskless", "file", "sharedfile", "plain", "drbd", "rbd", "blockdev", "ext", "gluster")
SPEC_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
SPEC_VALUE_MAX = 255
FLAVOR_ID = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")

# The flavors a fresh portal offers: sized for the embedded host's simulated nodes (16 CPUs,
# 32 GiB RAM, 500 GiB disk each) and Ganeti's instance policy (disk >= 1 GiB).
DEFAULT_FLAVORS = (
    ("1", "m1.tiny", 1, 512, 1),
    ("2", "m1.small", 1, 2048, 20),
    ("3", "m1.medium", 2, 4096, 40),
    ("4", "m1.large", 4, 8192, 80),
)


@dataclass(frozen=True)
class FlavorSpec:
    """A new flavor, as checked by the API layer."""

    name: str
    vcpus: int
    ram: int
    disk: int
    id: str | None = None
    ephemeral: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True


def default_disk_template() -> str:
    """The disk template of servers whose flavor names none."""
    return str(getattr(settings, "COMPUTE_DEFAULT_DISK_TEMPLATE", "file"))


def disk_template_of(extra_specs: dict[str, Any]) -> str:
    """The backend disk template a flavor's extra specs ask for."""
    return str(extra_specs.get(DISK_TEMPLATE_SPEC) or default_disk_template())


def visible(ctx: TokenContext) -> FlavorQuerySet:
    """The flavors the caller may see (admins see all)."""
    return Flavor.objects.visible_to(ctx.project_id, is_admin=ctx.is_admin)


def get_visible(ctx: TokenContext, flavor_id: str) -> Flavor:
    """The flavor `flavor_id` if the caller may see it; NotFound otherwise."""
    flavor = visible(ctx).filter(pk=str(flavor_id)).first()
    if flavor is None:
        raise NotFound(f"Flavor {flavor_id} could not be found.")
    return flavor


@transaction.atomic
def create_flavor(spec: FlavorSpec, *, actor: Any) -> Flavor:
    """Record a new flavor (its id is a new UUID unless given)."""
    flavor_id = spec.id if spec.id is not None else str(uuid.uuid4())
    if not FLAVOR_ID.match(flavor_id) or len(flavor_id) > 255:
        raise ValidationFailed(f"Invalid input for field/attribute id. Value: {flavor_id}.")
    if Flavor.objects.filter(name=spec.name).exists():
        raise Conflict(f"Flavor with name {spec.name} already exists.")
    if Flavor.objects.filter(pk=flavor_id).exists():
        raise Conflict(f"Flavor with ID {flavor_id} already exists.")
    try:
        with transaction.atomic():
            flavor = Flavor.objects.create(
                id=flavor_id,
                name=spec.name,
                vcpus=spec.vcpus,
                ram=spec.ram,
                disk=spec.disk,
                ephemeral=spec.ephemeral,
                swap=spec.swap,
                rxtx_factor=spec.rxtx_factor,
                is_public=spec.is_public,
            )
    except IntegrityError as exc:
        raise Conflict(f"Flavor with name {spec.name} or ID {flavor_id} already exists.") from exc
    audit.record(actor, "flavor.create", flavor, detail={"vcpus": spec.vcpus, "ram": spec.ram, "disk": spec.disk})
    return flavor


@transaction.atomic
def delete_flavor(flavor: Flavor, *, actor: Any) -> None:
    """Remove a flavor (servers keep their own copy of it)."""
    audit.record(actor, "flavor.delete", flavor, detail={"name": flavor.name})
    flavor.delete()


def _check_specs(specs: Any) -> dict[str, str]:
    if not isinstance(specs, dict):
        raise ValidationFailed("Invalid input for field/attribute extra_specs. Value: not an object.")
    checked: dict[str, str] = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not SPEC_KEY.match(key):
            raise ValidationFailed(f"Invalid input for field/attribute extra_specs. Value: {key!r} is not a valid key.")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationFailed(f"Invalid input for field/attribute {key}. Value: {value!r} is not a string.")
        text = str(value)
        if len(text) > SPEC_VALUE_MAX:
            raise ValidationFailed(f"Invalid input for field/attribute {key}. Value is longer than {SPEC_VALUE_MAX}.")
        if key == DISK_TEMPLATE_SPEC and text not in DISK_TEMPLATES:
            raise ValidationFailed(f"{DISK_TEMPLATE_SPEC} must be one of {', '.join(DISK_TEMPLATES)}.")
        checked[key] = text
    return checked


@transaction.atomic
def set_extra_specs(flavor: Flavor, specs: Any, *, actor: Any) -> dict[str, str]:
    """Add or change extra specs; returns the ones set."""
    checked = _check_specs(specs)
    row = Flavor.objects.select_for_update().get(pk=flavor.pk)
    row.extra_specs = {**row.extra_specs, **checked}
    row.save(update_fields=["extra_specs"])
    audit.record(actor, "flavor.set_extra_specs", row, detail={"extra_specs": checked})
    flavor.extra_specs = row.extra_specs
    return checked


@transaction.atomic
def delete_extra_spec(flavor: Flavor, key: str, *, actor: Any) -> None:
    """Remove one extra spec; NotFound when the flavor has no such key."""
    row = Flavor.objects.select_for_update().get(pk=flavor.pk)
    if key not in row.extra_specs:
        raise NotFound(f"Flavor {flavor.pk} has no extra specs with key {key}.")
    row.extra_specs = {k: v for k, v in row.extra_specs.items() if k != key}
    row.save(update_fields=["extra_specs"])
    audit.record(actor, "flavor.delete_extra_spec", row, detail={"key": key})


def _private(flavor: Flavor) -> None:
    if flavor.is_public:
        raise Conflict(f"Can not add access to a public flavor {flavor.pk}.")


@transaction.atomic
def add_access(flavor: Flavor, project_id: str, *, actor: Any) -> None:
    """Share a private flavor with a project (409 when public or already shared)."""
    _private(flavor)
    project = Project.objects.filter(pk=str(project_id)).first()
    if project is None:
        raise ValidationFailed(f"Project ID {project_id} is not a valid project.")
    if flavor.projects.filter(pk=project.pk).exists():
        raise Conflict(f"Flavor access already exists for flavor {flavor.pk} and project {project.pk} combination.")
    flavor.projects.add(project)
    audit.record(actor, "flavor.add_access", flavor, detail={"project": project.pk})


@transaction.atomic
def remove_access(flavor: Flavor, project_id: str, *, actor: Any) -> None:
    """Stop sharing a private flavor with a project (404 when it was not shared)."""
    if not flavor.projects.filter(pk=str(project_id)).exists():
        raise NotFound(f"Flavor access not found for {flavor.pk} / {project_id} combination.")
    flavor.projects.remove(str(project_id))
    audit.record(actor, "flavor.remove_access", flavor, detail={"project": str(project_id)})


def access_list(flavor: Flavor) -> list[str]:
    """The project ids a private flavor is shared with."""
    return [str(pk) for pk in flavor.projects.order_by("pk").values_list("pk", flat=True)]


@transaction.atomic
def seed_default_flavors(*, actor: Any = None) -> list[Flavor]:
    """Create the m1.* flavors that are missing (idempotent: existing ids and names are kept)."""
    made = []
    for flavor_id, name, vcpus, ram, disk in DEFAULT_FLAVORS:
        if Flavor.objects.filter(pk=flavor_id).exists() or Flavor.objects.filter(name=name).exists():
            continue
        made.append(create_flavor(FlavorSpec(name=name, vcpus=vcpus, ram=ram, disk=disk, id=flavor_id), actor=actor))
    return made


def on_bootstrapped(sender: Any, **kwargs: Any) -> str:
    """Receiver of identity.signals.bootstrapped (`manage.py bootstrap`): seed the m1.* flavors."""
    made = seed_default_flavors(actor=None)
    return f"flavors: {len(made)} created, {Flavor.objects.count()} in all"
