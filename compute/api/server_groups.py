"""Nova's `os-server-groups` (2.1-2.47 shapes: a one-item `policies` list, `metadata` always {};
2.13 adds `project_id` and `user_id`; 2.15 allows soft-affinity and soft-anti-affinity).

List (own project; admins with `all_projects` every project's; `limit`/`offset`), create, show,
delete. The work is done by `compute.services.server_groups`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import validation as check
from compute.api.base import NovaView, entity, no_content
from compute.models import ServerGroup
from compute.services import server_groups
from identity.models import Project
from portal.errors import ValidationFailed

MAX_LIMIT = 1000


def render(view: NovaView, group: ServerGroup, members: list[str]) -> dict[str, Any]:
    """A group as Nova shows it at the view's microversion."""
    body: dict[str, Any] = {
        "id": str(group.pk),
        "name": group.name,
        "policies": [group.policy],
        "members": members,
        "metadata": {},
    }
    if view.v("server_group_owner"):
        body.update(project_id=str(group.project_id), user_id=group.user_id)
    return body


def _policy(view: NovaView, value: Any) -> str:
    """The one policy of a create request (Nova's schema: a list of one known policy)."""
    allowed = server_groups.POLICIES + (server_groups.SOFT_POLICIES if view.v("soft_affinity") else ())
    if not isinstance(value, list):
        raise check.invalid("policies", value, f"{value!r} is not of type 'array'")
    if len(value) != 1:
        raise check.invalid("policies", value, "Exactly one policy is required")
    if value[0] not in allowed:
        raise check.invalid("policies", value, f"{value[0]!r} is not one of {list(allowed)}")
    return value[0]


def _offset(value: str | None) -> int:
    if value is None:
        return 0
    try:
        number = int(value)
    except ValueError:
        raise ValidationFailed("offset param must be an integer") from None
    if number < 0:
        raise ValidationFailed("offset param must be positive")
    return number


class ServerGroupsView(NovaView):
    """`GET|POST /os-server-groups`."""

    def get(self, request: Request) -> Response:
        """The project's groups (admins: `all_projects` for every project's), oldest first."""
        params = request.query_params
        # Nova looks only at the parameter's presence; an explicit false value is honoured too.
        everyone = "all_projects" in params and params["all_projects"].strip().lower() not in check.FALSE
        rows = server_groups.visible_groups(self.ctx(), all_projects=everyone)
        limit = check.integer("limit", params["limit"], minimum=0) if "limit" in params else MAX_LIMIT
        offset = _offset(params.get("offset"))
        page = list(rows[offset : offset + min(limit or MAX_LIMIT, MAX_LIMIT)])
        members = server_groups.members_of(page)
        return Response({"server_groups": [render(self, g, members[g.pk]) for g in page]})

    def post(self, request: Request) -> Response:
        """Create a group (200, as Nova answers)."""
        item = entity(request, "server_group")
        unknown = sorted(set(item) - {"name", "policies"})
        if unknown:
            listed = ", ".join(map(repr, unknown))
            raise ValidationFailed(f"Additional properties are not allowed ({listed} was unexpected)")
        for required in ("name", "policies"):
            if required not in item:
                raise check.invalid(required, None, f"'{required}' is a required property")
        ctx = self.ctx()
        group = server_groups.create_group(
            Project.objects.get(pk=ctx.project_id),
            user_id=ctx.user_id,
            name=check.name("name", item["name"]),
            policy=_policy(self, item["policies"]),
            actor=self.actor,
        )
        return Response({"server_group": render(self, group, [])})


class ServerGroupView(NovaView):
    """`GET|DELETE /os-server-groups/{id}`."""

    def get(self, request: Request, group_id: str) -> Response:
        """One group with its live members."""
        group = server_groups.get_group(self.ctx(), group_id)
        return Response({"server_group": render(self, group, server_groups.members_of([group])[group.pk])})

    def delete(self, request: Request, group_id: str) -> Response:
        """Delete a group (its servers keep running)."""
        server_groups.delete_group(server_groups.get_group(self.ctx(), group_id), actor=self.actor)
        return no_content()
