"""`/v2.0/security-groups` and `/v2.0/security-group-rules` (the project's `default` group appears on first use)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.network.models import SecurityGroup, SecurityGroupRule
from compute.network.services import security_groups as service
from compute.network.services.faults import bad_request
from identity.models import Project
from identity.tokens import TokenContext

from . import render
from .base import (
    READ_ONLY,
    STANDARD,
    Attr,
    NeutronView,
    all_or_nothing,
    anything,
    boolean,
    entities,
    entity,
    get_visible,
    integer,
    nullable,
    owner_project,
    parse_entity,
    require_owner,
    string,
    uuid_value,
)
from .listing import Filter, Listing, paged, shown, uuid_filter
from .listing import boolean as bool_filter
from .listing import integer as int_filter

GROUP_ATTRS = {
    **STANDARD,
    "name": Attr(string()),
    "stateful": Attr(boolean),
    "security_group_rules": READ_ONLY,
    "shared": READ_ONLY,
}

RULE_ATTRS = {
    **STANDARD,
    "security_group_id": Attr(uuid_value, update=False),
    "direction": Attr(string(8), update=False),
    "ethertype": Attr(string(8), update=False),
    "protocol": Attr(nullable(anything), update=False),
    "port_range_min": Attr(nullable(integer), update=False),
    "port_range_max": Attr(nullable(integer), update=False),
    "remote_ip_prefix": Attr(nullable(string(64)), update=False),
    # Not checked as a UUID: Neutron looks any string up, so a malformed id is 404 like a missing one.
    "remote_group_id": Attr(nullable(string(64)), update=False),
    "remote_address_group_id": Attr(nullable(uuid_value), update=False),
    "normalized_cidr": READ_ONLY,
    "belongs_to_default_sg": READ_ONLY,
}

GROUPS = Listing(
    collection="security_groups",
    kind="security_group",
    filters={
        "id": Filter("pk", uuid_filter),
        "name": Filter("name"),
        "description": Filter("description"),
        "stateful": Filter("stateful", bool_filter),
        "project_id": Filter("project_id"),
        "tenant_id": Filter("project_id"),
        "revision_number": Filter("revision_number", int_filter),
    },
    sort_keys={
        "id": "pk",
        "name": "name",
        "description": "description",
        "project_id": "project_id",
        "tenant_id": "project_id",
        "created_at": "created_at",
        "updated_at": "updated_at",
    },
)

RULES = Listing(
    collection="security_group_rules",
    kind="security_group_rule",
    filters={
        "id": Filter("pk", uuid_filter),
        "description": Filter("description"),
        "security_group_id": Filter("security_group_id", uuid_filter),
        "direction": Filter("direction"),
        "ethertype": Filter("ethertype"),
        "protocol": Filter("protocol"),
        "port_range_min": Filter("port_range_min", int_filter),
        "port_range_max": Filter("port_range_max", int_filter),
        "remote_ip_prefix": Filter("remote_ip_prefix"),
        "remote_group_id": Filter("remote_group_id", uuid_filter),
        "project_id": Filter("project_id"),
        "tenant_id": Filter("project_id"),
    },
    sort_keys={
        "id": "pk",
        "direction": "direction",
        "ethertype": "ethertype",
        "security_group_id": "security_group_id",
        "project_id": "project_id",
        "tenant_id": "project_id",
        "created_at": "created_at",
        "updated_at": "updated_at",
    },
)


def _first_use(view: NeutronView) -> None:
    """Make the caller's project default group if this is its first look at security groups."""
    project = Project.objects.filter(pk=view.ctx().project_id).first()
    if project is not None:
        service.ensure_default_group(project, actor=view.actor)


class SecurityGroupsView(NeutronView):
    """`GET /security-groups`, `POST /security-groups`."""

    def get(self, request: Request) -> Response:
        """List the caller's groups (admins: all)."""
        _first_use(self)
        queryset = render.prefetched_groups(SecurityGroup.objects.visible_to(self.ctx()))
        return Response(paged(request, queryset, GROUPS, render.security_group))

    def post(self, request: Request) -> Response:
        """Create a group (with egress-any rules)."""
        ctx = self.ctx()
        item = entity(request, "security_group")
        fields = parse_entity(item, GROUP_ATTRS, ctx=ctx, creating=True, resource="security_group")
        group = service.create_security_group(
            owner_project(ctx, item),
            name=fields.get("name", ""),
            description=fields.get("description", ""),
            stateful=fields.get("stateful", True),
            actor=self.actor,
        )
        group = render.prefetched_groups(SecurityGroup.objects.filter(pk=group.pk)).get()
        return Response({"security_group": render.security_group(group)}, status=201)


class SecurityGroupView(NeutronView):
    """`GET/PUT/DELETE /security-groups/{id}`."""

    def get(self, request: Request, group_id: str) -> Response:
        """Show one group with its rules."""
        queryset = render.prefetched_groups(SecurityGroup.objects.visible_to(self.ctx()))
        group = get_visible(queryset, group_id, "security_group")
        return Response(shown(request, "security_group", render.security_group(group)))

    def put(self, request: Request, group_id: str) -> Response:
        """Rename or re-describe a group."""
        ctx = self.ctx()
        group = get_visible(SecurityGroup.objects.visible_to(ctx), group_id, "security_group")
        require_owner(ctx, group, "update_security_group")
        fields = parse_entity(
            entity(request, "security_group"), GROUP_ATTRS, ctx=ctx, creating=False, resource="security_group"
        )
        group = service.update_security_group(group, fields, actor=self.actor)
        group = render.prefetched_groups(SecurityGroup.objects.filter(pk=group.pk)).get()
        return Response({"security_group": render.security_group(group)})

    def delete(self, request: Request, group_id: str) -> Response:
        """Delete a group no port uses."""
        ctx = self.ctx()
        group = get_visible(SecurityGroup.objects.visible_to(ctx), group_id, "security_group")
        require_owner(ctx, group, "delete_security_group")
        service.delete_security_group(group, actor=self.actor, is_admin=ctx.is_admin)
        return Response(status=204)


def _create_rule(ctx: TokenContext, item: dict[str, Any], actor: Any) -> SecurityGroupRule:
    fields = parse_entity(item, RULE_ATTRS, ctx=ctx, creating=True, resource="security_group_rule")
    for required in ("security_group_id", "direction"):
        if required not in fields:
            raise bad_request(f"Failed to parse request. Required attribute '{required}' not specified")
    if fields.get("remote_address_group_id") is not None:
        raise bad_request("Remote address groups are not supported.")
    visible = SecurityGroup.objects.visible_to(ctx)
    group = get_visible(visible, fields["security_group_id"], "security_group")
    require_owner(ctx, group, "create_security_group_rule")
    remote = fields.get("remote_group_id")
    spec = service.RuleSpec(
        direction=fields["direction"],
        ethertype=fields.get("ethertype", "IPv4"),
        protocol=fields.get("protocol"),
        port_range_min=fields.get("port_range_min"),
        port_range_max=fields.get("port_range_max"),
        remote_ip_prefix=fields.get("remote_ip_prefix"),
        remote_group=get_visible(visible, remote, "security_group") if remote is not None else None,
        description=fields.get("description", ""),
    )
    return service.create_rule(group, spec, actor=actor)


class RulesView(NeutronView):
    """`GET /security-group-rules`, `POST /security-group-rules`."""

    def get(self, request: Request) -> Response:
        """List the caller's rules."""
        _first_use(self)
        queryset = SecurityGroupRule.objects.visible_to(self.ctx()).select_related("security_group")
        return Response(paged(request, queryset, RULES, render.rule))

    def post(self, request: Request) -> Response:
        """Add a rule (or several: `{"security_group_rules": [...]}`) to a group."""
        ctx = self.ctx()
        items, bulk = entities(request, "security_group_rule", "security_group_rules")
        with all_or_nothing(bulk):
            created = [_create_rule(ctx, item, self.actor) for item in items]
        rendered = [render.rule(r) for r in created]
        return Response(
            {"security_group_rules": rendered} if bulk else {"security_group_rule": rendered[0]}, status=201
        )


class RuleView(NeutronView):
    """`GET/DELETE /security-group-rules/{id}` (rules cannot be changed, as in Neutron)."""

    def _visible(self) -> Any:
        return SecurityGroupRule.objects.visible_to(self.ctx()).select_related("security_group")

    def get(self, request: Request, rule_id: str) -> Response:
        """Show one rule."""
        return Response(
            shown(
                request,
                "security_group_rule",
                render.rule(get_visible(self._visible(), rule_id, "security_group_rule")),
            )
        )

    def delete(self, request: Request, rule_id: str) -> Response:
        """Delete one rule."""
        rule = get_visible(self._visible(), rule_id, "security_group_rule")
        service.delete_rule(rule, actor=self.actor)
        return Response(status=204)
