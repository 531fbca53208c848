"""factory-boy factories for identity models, and a role-assignment helper."""

from __future__ import annotations

import time
from collections.abc import Iterable

import factory

from identity import tokens
from identity.models import DEFAULT_DOMAIN_ID, Domain, Project, Role, RoleAssignment, User
from identity.tokens import TokenContext

PASSWORD = "secret-pass"


def default_domain() -> Domain:
    """The Default domain (transactional tests flush the row the migration made)."""
    return Domain.objects.get_or_create(pk=DEFAULT_DOMAIN_ID, defaults={"name": "Default"})[0]


class UserFactory(factory.django.DjangoModelFactory):
    """An active user in the Default domain whose password is `PASSWORD`."""

    class Meta:
        model = User
        django_get_or_create = ("name",)

    domain = factory.LazyFunction(default_domain)
    name = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.name}@example.org")
    status = User.Status.ACTIVE
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project in the Default domain."""

    class Meta:
        model = Project
        django_get_or_create = ("name",)

    domain = factory.LazyFunction(default_domain)
    name = factory.Sequence(lambda n: f"project{n}")


def role(name: str) -> Role:
    """The role with this name (created if missing)."""
    return Role.objects.get_or_create(name=name)[0]


def assign(user: User, project: Project, *roles: str) -> None:
    """Give `user` each of `roles` on `project`."""
    for name in roles:
        RoleAssignment.objects.get_or_create(user=user, project=project, role=role(name))


def make_token(user: User, project: Project | None, roles: Iterable[str] = ("member", "reader")) -> str:
    """A valid signed token for `user` scoped to `project` (unscoped if None) with `roles`."""
    now = time.time()
    ctx = TokenContext(
        user_id=user.pk,
        user_name=user.name,
        user_domain_id=user.domain_id,
        project_id=project.pk if project is not None else None,
        project_name=project.name if project is not None else None,
        project_domain_id=project.domain_id if project is not None else None,
        roles=tuple(roles),
        methods=("password",),
        issued_at=now,
        expires_at=now + 3600,
        audit_id=tokens.new_audit_id(),
    )
    return tokens.encode(ctx)
