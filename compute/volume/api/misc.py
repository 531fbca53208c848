"""Cinder's other resources: volume types, snapshots (none), backups (none), limits, quota sets,
availability zones and extensions."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.volume.api import render
from compute.volume.api.base import CinderView, body_of
from compute.volume.models import VolumeType
from compute.volume.services import quota_sets
from identity.models import Project
from portal.errors import NotFound, ValidationFailed

NO_SNAPSHOTS = (
    "Invalid input received: volume snapshots are not supported: the clusters of this cloud store volumes with "
    "Ganeti's file (or diskless) disk templates and the embedded libvirt host, none of which can snapshot a disk "
    "(docs/volume.md)."
)
NO_BACKUPS = "Invalid input received: volume backups are not supported by this cloud."


class TypesView(CinderView):
    """`GET /types`."""

    def get(self, request: Request, project_id: str) -> Response:
        """Every public volume type."""
        return Response({"volume_types": [render.type_view(t) for t in VolumeType.objects.filter(is_public=True)]})


class TypeView(CinderView):
    """`GET /types/{type_id}` (`default` names the default type)."""

    def get(self, request: Request, project_id: str, type_id: str) -> Response:
        """One volume type."""
        rows = VolumeType.objects.filter(is_public=True)
        if type_id == "default":
            found = rows.filter(is_default=True).first()
        else:
            try:
                found = rows.filter(pk=uuid.UUID(type_id)).first()
            except ValueError:
                found = None
        if found is None:
            raise NotFound(f"Volume type {type_id} could not be found.")
        return Response({"volume_type": render.type_view(found)})


class TypeExtraSpecsView(CinderView):
    """`GET /types/{type_id}/extra_specs`."""

    def get(self, request: Request, project_id: str, type_id: str) -> Response:
        """The type's extra specs."""
        try:
            found = VolumeType.objects.filter(pk=uuid.UUID(type_id), is_public=True).first()
        except ValueError:
            found = None
        if found is None:
            raise NotFound(f"Volume type {type_id} could not be found.")
        return Response({"extra_specs": render.type_view(found)["extra_specs"]})


class SnapshotsView(CinderView):
    """`GET/POST /snapshots` (and `/snapshots/detail`): there are none, and none can be made."""

    def get(self, request: Request, project_id: str) -> Response:
        """An empty list."""
        return Response({"snapshots": []})

    def post(self, request: Request, project_id: str) -> Response:
        """Refuse, naming the reason."""
        raise ValidationFailed(NO_SNAPSHOTS)


class SnapshotView(CinderView):
    """`/snapshots/{id}`: never found."""

    def get(self, request: Request, project_id: str, snapshot_id: str) -> Response:
        """404."""
        raise NotFound(f"Snapshot {snapshot_id} could not be found.")

    delete = put = get


class BackupsView(CinderView):
    """`GET/POST /backups` (and `/backups/detail`): none."""

    def get(self, request: Request, project_id: str) -> Response:
        """An empty list."""
        return Response({"backups": []})

    def post(self, request: Request, project_id: str) -> Response:
        """Refuse."""
        raise ValidationFailed(NO_BACKUPS)


class LimitsView(CinderView):
    """`GET /limits`."""

    def get(self, request: Request, project_id: str) -> Response:
        """The project's absolute limits (no rate limits)."""
        return Response({"limits": {"rate": [], "absolute": quota_sets.absolute_limits(self.project)}})


def _target(view: CinderView, target_id: str) -> Project:
    """The project a quota request names: the caller's own, or any (admins)."""
    ctx = view.ctx()
    project = Project.objects.filter(pk=target_id).first()
    if project is None or (target_id != ctx.project_id and not ctx.is_admin):
        raise NotFound(f"Project {target_id} could not be found.")
    return project


def _flag(value: str | None) -> bool:
    return str(value or "").lower() in ("true", "1", "yes")


class QuotaSetView(CinderView):
    """`GET/PUT/DELETE /os-quota-sets/{target_id}` (`?usage=True` for in_use/reserved)."""

    def get(self, request: Request, project_id: str, target_id: str) -> Response:
        """The quota set."""
        project = _target(self, target_id)
        usage = _flag(request.query_params.get("usage"))
        return Response({"quota_set": quota_sets.quota_set(project, usage=usage)})

    def put(self, request: Request, project_id: str, target_id: str) -> Response:
        """Set limits (admins)."""
        self.require_admin()
        project = _target(self, target_id)
        values: Any = body_of(request).get("quota_set")
        if not isinstance(values, dict):
            raise ValidationFailed("Missing required element 'quota_set' in request body.")
        quota_sets.set_quotas(project, values, actor=self.actor)
        body = quota_sets.quota_set(project)
        body.pop("id")
        return Response({"quota_set": body})


class QuotaDefaultsView(CinderView):
    """`GET /os-quota-sets/{target_id}/defaults`."""

    def get(self, request: Request, project_id: str, target_id: str) -> Response:
        """The default quota set."""
        project = _target(self, target_id)
        return Response({"quota_set": quota_sets.quota_set(project, defaults=True)})


class ZonesView(CinderView):
    """`GET /os-availability-zone`."""

    def get(self, request: Request, project_id: str) -> Response:
        """The one zone."""
        return Response({"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}}]})


class ExtensionsView(CinderView):
    """`GET /extensions`: none are offered beyond the 3.0 base."""

    def get(self, request: Request, project_id: str) -> Response:
        """An empty list."""
        return Response({"extensions": []})
