"""`/v2/images/{id}/members[/{member_id}]`: share an image with projects and answer such offers."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from compute.image.api import render
from compute.image.api.base import GlanceView, json_body
from compute.image.services import members
from portal.errors import ValidationFailed


class MembersView(GlanceView):
    """`GET` (list) and `POST` (add a member) on an image's members."""

    def get(self, request: Request, image_id: str) -> Response:
        """The members the caller may see."""
        rows = members.list_members(self.ctx(), image_id)
        return Response({"members": [render.member_view(m) for m in rows], "schema": "/v2/schemas/members"})

    def post(self, request: Request, image_id: str) -> Response:
        """Offer the image to the project in `{"member": "<project id>"}` (200, status pending)."""
        body = json_body(request, dict)
        if "member" not in body:
            raise ValidationFailed("Member to be added not specified")
        member = members.add_member(self.ctx(), image_id, body["member"], actor=self.actor)
        return Response(render.member_view(member))


class MemberView(GlanceView):
    """`GET`, `PUT` (set status) and `DELETE` one membership."""

    def get(self, request: Request, image_id: str, member_id: str) -> Response:
        """One membership."""
        return Response(render.member_view(members.get_member(self.ctx(), image_id, member_id)))

    def put(self, request: Request, image_id: str, member_id: str) -> Response:
        """`{"status": "accepted" | "rejected" | "pending"}`, by the member project."""
        body = json_body(request, dict)
        if "status" not in body:
            raise ValidationFailed("Status not specified")
        member = members.update_member_status(self.ctx(), image_id, member_id, body["status"], actor=self.actor)
        return Response(render.member_view(member))

    def delete(self, request: Request, image_id: str, member_id: str) -> Response:
        """Withdraw the offer (owner or admin)."""
        members.remove_member(self.ctx(), image_id, member_id, actor=self.actor)
        return Response(status=204)
