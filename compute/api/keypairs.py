"""Key pairs (`/os-keypairs`): per user; import a public key or generate a pair (the private key is
returned once). 2.2 adds `type` (ssh, x509), 2.10 lets admins name another `user_id`, 2.35 pages
the list with `limit`/`marker` (by name)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import validation as check
from compute.api.base import NovaView, entity, iso, next_link, no_content, pagination
from compute.models import Keypair
from compute.services import keypairs
from compute.services.listing import MAX_LIMIT
from portal.errors import Forbidden, ValidationFailed


class KeypairBase(NovaView):
    """Whose key pairs a request is about: the caller's, or (2.10, admins) `user_id`'s."""

    def owner(self, requested: Any = None) -> str:
        """The user id the request acts for."""
        ctx = self.ctx()
        user_id = requested if requested is not None else self.request.query_params.get("user_id")
        if user_id is None or not self.v("keypair_user_id") or user_id == ctx.user_id:
            return ctx.user_id
        if not isinstance(user_id, str):
            raise check.invalid("user_id", user_id, "It must be a string")
        if not ctx.is_admin:
            raise Forbidden("Policy doesn't allow os_compute_api:os-keypairs to be performed for another user.")
        return user_id

    def summary(self, keypair: Keypair) -> dict[str, Any]:
        """A key pair as lists and creates show it."""
        body = {"name": keypair.name, "public_key": keypair.public_key, "fingerprint": keypair.fingerprint}
        if self.v("keypair_type"):
            body["type"] = keypair.type
        return body


class KeypairsView(KeypairBase):
    """`GET /os-keypairs` and `POST /os-keypairs`."""

    def get(self, request: Request) -> Response:
        """The user's key pairs (by name)."""
        rows = Keypair.objects.for_user(self.owner()).order_by("name")
        more: dict[str, Any] = {}
        if self.v("keypair_paging"):
            limit, marker = pagination(request)
            limit = min(limit or MAX_LIMIT, MAX_LIMIT)
            if marker is not None:
                if not rows.filter(name=marker).exists():
                    raise ValidationFailed(f"marker [{marker}] not found")
                rows = rows.filter(name__gt=marker)
            page = list(rows[:limit])
            if page and len(page) == limit:
                more["keypairs_links"] = next_link(request, "os-keypairs", page[-1].name)
        else:
            page = list(rows)
        return Response({"keypairs": [{"keypair": self.summary(k)} for k in page], **more})

    def post(self, request: Request) -> Response:
        """Import (public_key given) or generate a key pair."""
        data = entity(request, "keypair")
        allowed = {"name", "public_key"}
        if self.v("keypair_type"):
            allowed.add("type")
        if self.v("keypair_user_id"):
            allowed.add("user_id")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
        if "name" not in data:
            raise check.invalid("name", None, "'name' is a required property")
        public_key = data.get("public_key")
        if public_key is not None and not isinstance(public_key, str):
            raise check.invalid("public_key", public_key, "It must be a string")
        key_type = data.get("type", Keypair.Type.SSH)
        if key_type not in Keypair.Type.values:
            raise check.invalid("type", key_type, "It must be one of ssh, x509")
        keypair, private = keypairs.create_keypair(
            self.owner(data.get("user_id")), data["name"], key_type=key_type, public_key=public_key, actor=self.actor
        )
        body = {**self.summary(keypair), "user_id": keypair.user_id}
        if private is not None:
            body["private_key"] = private
        return Response({"keypair": body}, status=201 if self.v("keypair_type") else 200)


class KeypairView(KeypairBase):
    """`GET /os-keypairs/{name}` and `DELETE /os-keypairs/{name}`."""

    def get(self, request: Request, name: str) -> Response:
        """Show a key pair."""
        keypair = keypairs.get_keypair(self.owner(), name)
        body = {
            **self.summary(keypair),
            "user_id": keypair.user_id,
            "id": keypair.pk,
            "deleted": False,
            "created_at": iso(keypair.created_at),
            "updated_at": None,
            "deleted_at": None,
        }
        return Response({"keypair": body})

    def delete(self, request: Request, name: str) -> Response:
        """Delete a key pair (202 before 2.2, 204 from it)."""
        keypairs.delete_keypair(keypairs.get_keypair(self.owner(), name), actor=self.actor)
        return no_content(204 if self.v("keypair_type") else 202)
