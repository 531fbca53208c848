"""Servers: list (brief and detail, Nova's filters and paging), boot, show, update, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import validation as check
from compute.api.base import NovaView, body_of, entity, links, next_link, no_content, pagination
from compute.api.render import ServerRenderer
from compute.api.server_parse import parse_create
from compute.models import Server
from compute.services import server_data, server_rows, servers
from compute.services.listing import MAX_LIMIT, ServerQuery, list_servers
from compute.services.states import KNOWN_STATUSES
from portal.errors import NotFound, ValidationFailed

ADMIN_FILTERS = ("user_id", "host", "node")


def _changes_since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    moment = parse_datetime(raw.replace(" ", "+")) if raw else None
    if moment is None:
        raise ValidationFailed("Invalid filter field: changes-since.")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _tags(raw: str | None) -> tuple[str, ...]:
    return tuple(t for t in (raw or "").split(",") if t)


def _all_tenants(raw: str | None) -> bool:
    if raw is None:
        return False
    return raw == "" or check.boolean("all_tenants", raw)


class ServerList(NovaView):
    """Shared listing of `GET /servers` and `GET /servers/detail`."""

    detail = False

    def query(self, request: Request) -> ServerQuery:
        """The filters, sort and page a listing asks for."""
        params = request.query_params
        statuses = tuple(s.upper() for s in params.getlist("status") if s)
        if self.v("strict_status_filter"):
            for status in statuses:
                if status not in KNOWN_STATUSES:
                    raise ValidationFailed(f"Invalid status value: {status}")
        keys, dirs = params.getlist("sort_key"), params.getlist("sort_dir")
        sort = tuple((k, dirs[i] if i < len(dirs) else "desc") for i, k in enumerate(keys))
        sort = sort or (("created_at", dirs[0] if dirs else "desc"),)
        limit, marker = pagination(request)
        ctx = self.ctx()
        admin = {name: params.get(name) for name in ADMIN_FILTERS} if ctx.is_admin else {}
        deleted = params.get("deleted")
        tags = self.v("tags")
        return ServerQuery(
            name=params.get("name"),
            statuses=statuses,
            changes_since=_changes_since(params.get("changes-since")),
            image=params.get("image"),
            flavor=params.get("flavor"),
            ip=params.get("ip"),
            ip6=params.get("ip6"),
            reservation_id=params.get("reservation_id"),
            tags=_tags(params.get("tags")) if tags else (),
            tags_any=_tags(params.get("tags-any")) if tags else (),
            not_tags=_tags(params.get("not-tags")) if tags else (),
            not_tags_any=_tags(params.get("not-tags-any")) if tags else (),
            all_tenants=_all_tenants(params.get("all_tenants")),
            project_id=params.get("project_id") or params.get("tenant_id"),
            deleted=check.boolean("deleted", deleted) if deleted is not None and ctx.is_admin else None,
            sort=sort,
            # Nova's servers list takes limit=0 literally (an empty page), unlike its offset-paged lists.
            limit=MAX_LIMIT if limit is None else min(limit, MAX_LIMIT),
            marker=marker,
            **admin,
        )

    def get(self, request: Request) -> Response:
        """One page of servers."""
        query = self.query(request)
        ctx = self.ctx()
        path = "servers/detail" if self.detail else "servers"
        if self.detail:
            page = list_servers(ctx, query)
            renderer = ServerRenderer(request, ctx, self.api_version, page)
            body: dict[str, Any] = {"servers": [renderer.detail(s) for s in page]}
            last = str(page[-1].id) if page else ""
        else:
            pairs = list_servers(ctx, query, brief=True)
            brief = [{"id": str(pk), "name": name, "links": links(request, "servers", str(pk))} for pk, name in pairs]
            body = {"servers": brief}
            last = str(pairs[-1][0]) if pairs else ""
        if last and len(body["servers"]) == query.limit:
            body["servers_links"] = next_link(request, path, last)
        return Response(body)


class ServersView(ServerList):
    """`GET /servers` and `POST /servers`."""

    def post(self, request: Request) -> Response:
        """Boot one or more servers (202; the build goes on in the background)."""
        server_request, wants_reservation = parse_create(body_of(request), self.api_version)
        created, reservation = servers.create_servers(self.ctx(), server_request, actor=self.actor)
        if wants_reservation:
            return Response({"reservation_id": reservation}, status=202)
        first = created[0]
        body = {
            "id": str(first.pk),
            "links": links(request, "servers", str(first.pk)),
            "OS-DCF:diskConfig": first.disk_config,
            "security_groups": [{"name": name} for name in first.security_groups],
        }
        response = Response({"server": body}, status=202)
        response["Location"] = body["links"][0]["href"]
        return response


class ServersDetailView(ServerList):
    """`GET /servers/detail`."""

    detail = True


def _fetch(view: NovaView, server_id: str) -> Server:
    """The live server the caller names (404 otherwise)."""
    return servers.get_server(view.ctx(), server_id)


def _shown(view: NovaView, server_id: str) -> Any:
    """The live server the caller names as the renderer reads it (one query; 404 otherwise)."""
    ctx = view.ctx()
    live = servers.visible_servers(ctx).live().filter(pk=servers.server_pk(server_id))
    found = server_rows.rows(live, admin=ctx.is_admin)
    if not found:
        raise NotFound(f"Instance {server_id} could not be found.")
    return found[0]


class ServerView(NovaView):
    """`GET|PUT|DELETE /servers/{id}`."""

    def get(self, request: Request, server_id: str) -> Response:
        """Show a server."""
        row = _shown(self, server_id)
        return Response({"server": ServerRenderer(request, self.ctx(), self.api_version, [row]).detail(row)})

    def put(self, request: Request, server_id: str) -> Response:
        """Rename a server (and its description from 2.19, access IPs, disk config)."""
        data = entity(request, "server")
        allowed = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"}
        if self.v("description"):
            allowed.add("description")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
        changes: dict[str, Any] = {}
        if "name" in data:
            changes["name"] = check.name("name", data["name"])
        if "description" in data:
            changes["description"] = check.description("description", data["description"])
        if "accessIPv4" in data:
            changes["access_ipv4"] = check.ip("accessIPv4", data["accessIPv4"], version=4) if data["accessIPv4"] else ""
        if "accessIPv6" in data:
            changes["access_ipv6"] = check.ip("accessIPv6", data["accessIPv6"], version=6) if data["accessIPv6"] else ""
        if "OS-DCF:diskConfig" in data:
            if data["OS-DCF:diskConfig"] not in ("AUTO", "MANUAL"):
                raise check.invalid("OS-DCF:diskConfig", data["OS-DCF:diskConfig"], "It must be AUTO or MANUAL")
            changes["disk_config"] = data["OS-DCF:diskConfig"]
        server_data.update_server(_fetch(self, server_id), changes, actor=self.actor)
        row = _shown(self, server_id)
        return Response({"server": ServerRenderer(request, self.ctx(), self.api_version, [row]).update(row)})

    def delete(self, request: Request, server_id: str) -> Response:
        """Delete a server (204; its instance is destroyed in the background)."""
        ctx = self.ctx()
        servers.delete_server(_fetch(self, server_id), is_admin=ctx.is_admin, actor=self.actor)
        return no_content()
