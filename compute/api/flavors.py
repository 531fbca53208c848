"""Flavors: list (`minDisk`, `minRam`, `is_public`, sorting, `limit`/`marker`), show, and the admin's
create/delete, extra specs (`os-extra_specs`) and access lists (`os-flavor-access`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import validation as check
from compute.api.base import NovaView, body_of, entity, links, next_link, no_content, pagination
from compute.models import Flavor
from compute.services import flavors
from compute.services.listing import MAX_LIMIT
from portal.errors import NotFound, ValidationFailed

SORT_KEYS = {
    "flavorid": "id",
    "id": "id",
    "name": "name",
    "memory_mb": "ram",
    "vcpus": "vcpus",
    "root_gb": "disk",
    "ephemeral_gb": "ephemeral",
    "swap": "swap",
    "rxtx_factor": "rxtx_factor",
    "created_at": "created_at",
}


def flavor_view(request: Request, flavor: Flavor, *, detail: bool = True) -> dict[str, Any]:
    """A flavor as Nova shows it."""
    body: dict[str, Any] = {"id": flavor.id, "name": flavor.name, "links": links(request, "flavors", flavor.id)}
    if detail:
        body.update(
            ram=flavor.ram,
            vcpus=flavor.vcpus,
            disk=flavor.disk,
            swap=flavor.swap or "",
            rxtx_factor=flavor.rxtx_factor,
            **{
                "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral,
                "OS-FLV-DISABLED:disabled": flavor.disabled,
                "os-flavor-access:is_public": flavor.is_public,
            },
        )
    return body


class FlavorList(NovaView):
    """Shared listing of `GET /flavors` and `GET /flavors/detail`."""

    detail = False

    def _rows(self, request: Request) -> Any:
        """Nova's visibility: public flavors and those shared with the project (enabled ones) for
        users; admins choose with `is_public` (true by default, false, or none for all)."""
        ctx = self.ctx()
        if not ctx.is_admin:
            return Flavor.objects.filter(pk__in=flavors.visible(ctx).values("pk"), disabled=False)
        raw = request.query_params.get("is_public")
        if raw is not None and raw.lower() == "none":
            return Flavor.objects.all()
        return Flavor.objects.filter(is_public=True if raw is None else check.boolean("is_public", raw))

    def get(self, request: Request) -> Response:
        """List the flavors the caller may see."""
        ctx = self.ctx()
        params = request.query_params
        rows = self._rows(request)
        if params.get("name") is not None:
            rows = rows.filter(name=params["name"])
        for param, column in (("minRam", "ram"), ("minDisk", "disk")):
            if params.get(param) is not None:
                try:
                    rows = rows.filter(**{f"{column}__gte": int(params[param])})
                except ValueError:
                    raise ValidationFailed(f"Invalid {param} filter [{params[param]}]") from None
        key, direction = params.get("sort_key", "flavorid"), params.get("sort_dir", "asc")
        if key not in SORT_KEYS or direction not in ("asc", "desc"):
            raise ValidationFailed(f"Invalid sort_key {key} or sort_dir {direction}")
        column = SORT_KEYS[key]
        prefix = "-" if direction == "desc" else ""
        rows = rows.order_by(f"{prefix}{column}", f"{prefix}id")
        limit, marker = pagination(request)
        limit = min(limit or MAX_LIMIT, MAX_LIMIT)
        if marker is not None:
            anchor = flavors.visible(ctx).filter(pk=marker).first()
            if anchor is None:
                raise ValidationFailed(f"marker [{marker}] not found")
            value = getattr(anchor, column)
            op = "lt" if direction == "desc" else "gt"
            rows = rows.filter(Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": anchor.pk}))
        page = list(rows[:limit])
        body: dict[str, Any] = {"flavors": [flavor_view(request, f, detail=self.detail) for f in page]}
        if page and len(page) == limit:
            body["flavors_links"] = next_link(request, "flavors/detail" if self.detail else "flavors", page[-1].id)
        return Response(body)


class FlavorsView(FlavorList):
    """`GET /flavors` (brief) and `POST /flavors` (admin)."""

    def post(self, request: Request) -> Response:
        """Create a flavor (admin)."""
        self.require_admin()
        data = entity(request, "flavor")
        allowed = {"name", "id", "ram", "vcpus", "disk", "swap", "rxtx_factor", "OS-FLV-EXT-DATA:ephemeral"}
        allowed.add("os-flavor-access:is_public")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
        for required in ("name", "ram", "vcpus", "disk"):
            if required not in data:
                raise check.invalid(required, None, f"'{required}' is a required property")
        flavor_id = data.get("id")
        if flavor_id is not None and not isinstance(flavor_id, str):
            raise check.invalid("id", flavor_id, "It must be a string or null")
        spec = flavors.FlavorSpec(
            name=check.name("name", data["name"]),
            id=flavor_id,
            ram=check.integer("ram", data["ram"]),
            vcpus=check.integer("vcpus", data["vcpus"]),
            disk=check.integer("disk", data["disk"], minimum=0),
            ephemeral=check.integer("OS-FLV-EXT-DATA:ephemeral", data.get("OS-FLV-EXT-DATA:ephemeral", 0), minimum=0),
            swap=check.integer("swap", data.get("swap", 0) or 0, minimum=0),
            rxtx_factor=check.number("rxtx_factor", data.get("rxtx_factor", 1.0), minimum=0, maximum=3.40282e38),
            is_public=check.boolean("os-flavor-access:is_public", data.get("os-flavor-access:is_public", True)),
        )
        flavor = flavors.create_flavor(spec, actor=self.actor)
        return Response({"flavor": flavor_view(request, flavor)})


class FlavorsDetailView(FlavorList):
    """`GET /flavors/detail`."""

    detail = True


def _flavor(view: NovaView, flavor_id: str) -> Flavor:
    return flavors.get_visible(view.ctx(), flavor_id)


class FlavorView(NovaView):
    """`GET /flavors/{id}` and `DELETE /flavors/{id}` (admin)."""

    def get(self, request: Request, flavor_id: str) -> Response:
        """Show a flavor."""
        return Response({"flavor": flavor_view(request, _flavor(self, flavor_id))})

    def delete(self, request: Request, flavor_id: str) -> Response:
        """Delete a flavor (202)."""
        self.require_admin()
        flavors.delete_flavor(_flavor(self, flavor_id), actor=self.actor)
        return no_content(202)


class ExtraSpecsView(NovaView):
    """`GET|POST /flavors/{id}/os-extra_specs`."""

    def get(self, request: Request, flavor_id: str) -> Response:
        """The flavor's extra specs."""
        return Response({"extra_specs": dict(_flavor(self, flavor_id).extra_specs)})

    def post(self, request: Request, flavor_id: str) -> Response:
        """Add or change extra specs (admin)."""
        self.require_admin()
        data = body_of(request)
        if set(data) != {"extra_specs"}:
            raise check.invalid("extra_specs", None, "'extra_specs' is a required property")
        set_specs = flavors.set_extra_specs(_flavor(self, flavor_id), data["extra_specs"], actor=self.actor)
        return Response({"extra_specs": set_specs})


class ExtraSpecView(NovaView):
    """`GET|PUT|DELETE /flavors/{id}/os-extra_specs/{key}`."""

    def get(self, request: Request, flavor_id: str, key: str) -> Response:
        """One extra spec."""
        specs = _flavor(self, flavor_id).extra_specs
        if key not in specs:
            raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
        return Response({key: specs[key]})

    def put(self, request: Request, flavor_id: str, key: str) -> Response:
        """Set one extra spec (admin); the body names exactly that key."""
        self.require_admin()
        data = body_of(request)
        if len(data) != 1:
            raise ValidationFailed("Request body contains too many items")
        if key not in data:
            raise ValidationFailed("Request body and URI mismatch")
        return Response(flavors.set_extra_specs(_flavor(self, flavor_id), data, actor=self.actor))

    def delete(self, request: Request, flavor_id: str, key: str) -> Response:
        """Remove one extra spec (admin)."""
        self.require_admin()
        flavors.delete_extra_spec(_flavor(self, flavor_id), key, actor=self.actor)
        return Response(status=200)


def _access(flavor: Flavor) -> Response:
    return Response({"flavor_access": [{"flavor_id": flavor.id, "tenant_id": p} for p in flavors.access_list(flavor)]})


class FlavorAccessView(NovaView):
    """`GET /flavors/{id}/os-flavor-access` (admin)."""

    def get(self, request: Request, flavor_id: str) -> Response:
        """The projects a private flavor is shared with."""
        self.require_admin()
        flavor = _flavor(self, flavor_id)
        if flavor.is_public:
            raise NotFound("Access list not available for public flavors.")
        return _access(flavor)


class FlavorActionView(NovaView):
    """`POST /flavors/{id}/action`: addTenantAccess / removeTenantAccess (admin)."""

    def post(self, request: Request, flavor_id: str) -> Response:
        """Share or unshare a private flavor."""
        self.require_admin()
        data = body_of(request)
        if len(data) != 1 or next(iter(data)) not in ("addTenantAccess", "removeTenantAccess"):
            raise ValidationFailed(f"There is no such action: {', '.join(data) or 'None'}")
        action, args = next(iter(data.items()))
        if not isinstance(args, dict) or not isinstance(args.get("tenant"), str) or not args["tenant"]:
            raise check.invalid("tenant", args, "'tenant' is a required property")
        flavor = _flavor(self, flavor_id)
        if action == "addTenantAccess":
            flavors.add_access(flavor, args["tenant"], actor=self.actor)
        else:
            flavors.remove_access(flavor, args["tenant"], actor=self.actor)
        return _access(flavor)
