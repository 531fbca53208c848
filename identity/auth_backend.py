"""Dashboard login backend: a user name in the Default domain plus a password, active users only."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from identity.models import DEFAULT_DOMAIN_ID, User


class DomainUserBackend(ModelBackend):
    """Authenticates by (domain, name, password); pending and disabled users cannot log in."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ) -> User | None:
        domain_id = kwargs.get("domain_id", DEFAULT_DOMAIN_ID)
        if username is None or password is None:
            return None
        try:
            user = User.objects.get(domain_id=domain_id, name=username)
        except User.DoesNotExist:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
