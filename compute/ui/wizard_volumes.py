"""The create wizard's Volumes step: existing volumes to attach and new blank ones to create.

The form (prefix `vol`) offers the project's `available` volumes that no other new server waits
for, and `NEW_ROWS` rows (size, name, type) of blank volumes to create. Submitting boots the
server, creates the new volumes through `compute.volume.services.volumes` (which charges their
quota) and records every chosen volume as pending (`compute.volume.services.pending`) in one
transaction: a refusal anywhere (over quota, a volume no longer available) creates nothing.
The volumes are attached once the server is ACTIVE (Nova refuses attaching while it builds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Q

from compute.models import Flavor, Server
from compute.services import flavors as flavor_service
from compute.services.servers import ServerRequest, create_servers
from compute.ui.volume_forms import CHOICE_LIMIT, volume_types
from compute.volume.models import Volume, VolumeType
from compute.volume.services import pending
from compute.volume.services.volumes import MAX_SIZE_GIB, VolumeSpec, create_volume
from compute.volume.states import Status
from identity.models import Project
from identity.tokens import TokenContext
from portal.errors import ValidationFailed

NEW_ROWS = 3
PREFIX = "vol"


@dataclass(frozen=True)
class NewVolume:
    """A blank volume to create for the new server."""

    size: int
    volume_type: VolumeType
    name: str = ""


@dataclass(frozen=True)
class Picks:
    """What the Volumes step asks for: ids of existing volumes, and new volumes."""

    existing: list[str] = field(default_factory=list)
    new: list[NewVolume] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.existing or self.new)


def attachable_volumes(project: Project) -> list[Volume]:
    """The project's available volumes that no other new server waits for, by name (a wait left by a
    server deleted before it reached a cluster does not count: `pending.add` clears it)."""
    free = Q(pending_attachment__isnull=True) | Q(pending_attachment__server__deleted_at__isnull=False)
    rows = Volume.objects.for_project(project.pk).filter(free, status=Status.AVAILABLE)
    return list(rows.select_related("volume_type").order_by("name", "created_at")[:CHOICE_LIMIT])


def volume_label(volume: Volume) -> str:
    """`data — 2 GiB, file`."""
    return f"{volume.name or volume.pk} — {volume.size} GiB, {volume.volume_type.name}"


class WizardVolumesForm(forms.Form):
    """Existing volumes to attach (checkboxes) and up to `NEW_ROWS` new blank volumes."""

    attach = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Existing volumes")

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, prefix=PREFIX, **kwargs)
        self.volumes = {str(v.pk): v for v in attachable_volumes(project)}
        self.fields["attach"].choices = [(pk, volume_label(v)) for pk, v in self.volumes.items()]
        self.fields["attach"].widget.attrs["class"] = "form-check-input"
        self.types = {str(t.pk): t for t in volume_types()}
        type_choices = [(pk, t.name) for pk, t in self.types.items()]
        for index in range(NEW_ROWS):
            self.fields[f"size_{index}"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=MAX_SIZE_GIB,
                label="Size (GiB)",
                widget=forms.NumberInput(
                    attrs={"class": "form-control new-volume-size", "min": 1, "placeholder": "GiB"}
                ),
            )
            self.fields[f"name_{index}"] = forms.CharField(
                required=False,
                max_length=255,
                label="Name",
                widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "name (optional)"}),
            )
            self.fields[f"type_{index}"] = forms.ChoiceField(
                required=False,
                choices=type_choices,
                label="Type",
                widget=forms.Select(attrs={"class": "form-select"}),
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        """The new-volume rows as (size, name, type) bound fields, for the template."""
        return [(self[f"size_{i}"], self[f"name_{i}"], self[f"type_{i}"]) for i in range(NEW_ROWS)]

    def clean(self) -> dict[str, Any]:
        """A new volume needs a size; a name without one is an error rather than silently ignored."""
        data = super().clean()
        for index in range(NEW_ROWS):
            if data.get(f"size_{index}") is None and data.get(f"name_{index}") and f"size_{index}" not in self.errors:
                self.add_error(f"size_{index}", "Give the size of this new volume (or clear its name).")
        return data

    def picks(self) -> Picks:
        """The validated choice (call after `is_valid()`)."""
        data = self.cleaned_data
        new = []
        for index in range(NEW_ROWS):
            size = data.get(f"size_{index}")
            if size is None:
                continue
            vtype = self.types.get(data.get(f"type_{index}") or "") or next(iter(self.types.values()))
            new.append(NewVolume(size=size, volume_type=vtype, name=data.get(f"name_{index}") or ""))
        return Picks(existing=list(data.get("attach") or []), new=new)

    def check_fits(self, flavor: Flavor | None, count: int) -> None:
        """Errors for choices the new server could never take: several servers, or another disk template."""
        picks = self.picks()
        if not picks:
            return
        if count != 1:
            self.add_error(None, "Volumes can be added when creating one server only (set How many to 1).")
        if flavor is None:
            return
        template = flavor_service.disk_template_of(flavor.extra_specs or {})
        if template == "diskless":
            self.add_error(None, f"Flavor {flavor.name} makes diskless servers: they cannot take volumes.")
            return
        for pk in picks.existing:
            volume = self.volumes[pk]
            if volume.volume_type.disk_template != template:
                self.add_error(
                    "attach",
                    f"Volume {volume.name or volume.pk} is of type {volume.volume_type.name}, but servers of flavor "
                    f"{flavor.name} use disk template {template}.",
                )
        for index in range(NEW_ROWS):
            vtype = self.types.get(self.cleaned_data.get(f"type_{index}") or "")
            if self.cleaned_data.get(f"size_{index}") is not None and vtype and vtype.disk_template != template:
                self.add_error(
                    f"type_{index}",
                    f"Type {vtype.name} uses disk template {vtype.disk_template}, but servers of flavor "
                    f"{flavor.name} use {template}.",
                )


def new_sizes(source: Any) -> list[int]:
    """The sizes of the new volumes in a request's data (bad or empty entries skipped), for the preview."""
    sizes = []
    for index in range(NEW_ROWS):
        value = str(source.get(f"{PREFIX}-size_{index}") or "").strip()
        if value.isdigit() and int(value) > 0:
            sizes.append(int(value))
    return sizes


def boot(ctx: TokenContext, spec: ServerRequest, project: Project, picks: Picks, *, actor: Any) -> list[Server]:
    """Create the server(s), then the new volumes, and record every chosen volume as pending, all or none.

    Raises the services' DomainErrors (over quota, a volume no longer available or not the
    project's). After the commit the pending volumes are attached at once if the server is ACTIVE
    already; else the server's instance events attach them (`pending.settle`)."""
    with transaction.atomic():
        made, _reservation = create_servers(ctx, spec, actor=actor)
        if not picks:
            return made
        if len(made) != 1:
            raise ValidationFailed("Volumes can be added when creating one server only.")
        server = made[0]
        wanted = set(picks.existing)
        rows = Volume.objects.for_project(project.pk).select_for_update(of=("self",)).filter(pk__in=wanted)
        existing = list(rows.order_by("name", "created_at"))
        if len(existing) != len(wanted):
            raise ValidationFailed("A chosen volume could not be found in the project.")
        created = [
            create_volume(project, VolumeSpec(size=n.size, volume_type=n.volume_type, name=n.name), actor=actor)
            for n in picks.new
        ]
        pending.add(server, existing + created, actor=actor)
        server_id = server.pk
        transaction.on_commit(lambda: pending.settle(server_id, actor=actor))
    return made
