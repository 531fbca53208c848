"""The one DRF authentication class every API uses: a Keystone token in `X-Auth-Token`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from identity.tokens import TokenContext, validate


@dataclass
class TokenPrincipal:
    """The authenticated caller as DRF's `request.user`: ids from the token, the model on demand."""

    ctx: TokenContext
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def pk(self) -> str:
        return self.ctx.user_id

    id = pk

    @property
    def name(self) -> str:
        return self.ctx.user_name

    @cached_property
    def model(self):
        """The User row (one query, on first use)."""
        from identity.models import User

        return User.objects.get(pk=self.ctx.user_id)

    def __str__(self) -> str:
        return self.ctx.user_name


class TokenAuthentication(BaseAuthentication):
    """Authenticates `X-Auth-Token`; `request.auth` becomes the TokenContext."""

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, TokenContext] | None:
        token = request.META.get("HTTP_X_AUTH_TOKEN") or request.META.get("HTTP_X_STORAGE_TOKEN")
        if not token:
            return None
        ctx = validate(token.strip())
        return TokenPrincipal(ctx), ctx

    def authenticate_header(self, request: Request) -> str:
        return 'Keystone uri="/identity"'
