"""Identity data: domains, users, projects, roles, role assignments, catalog, credentials.

Identifiers are 32-hex-digit strings as in Keystone, so that v3 payloads look as clients expect.
Quota ledger models live in `identity.quota_models`; the audit log in `portal.models`.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

DEFAULT_DOMAIN_ID = "default"


def new_id() -> str:
    """Return a new Keystone-style identifier (32 lowercase hex digits)."""
    return uuid.uuid4().hex


class Domain(models.Model):
    """A Keystone domain. Nefos has one, `default`, modelled so that v3 payloads are right."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class UserQuerySet(models.QuerySet):
    """Queries over users."""

    def visible_to(self, ctx) -> UserQuerySet:
        """Admins see every user; others see themselves only."""
        if ctx.is_admin:
            return self
        return self.filter(pk=ctx.user_id)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Manager used by Django's auth machinery (createsuperuser) and by services."""

    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        return self.get(domain_id=DEFAULT_DOMAIN_ID, name=username)

    def create_user(self, name: str, password: str | None = None, **extra) -> User:
        extra.setdefault("domain_id", DEFAULT_DOMAIN_ID)
        user = self.model(name=name, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, name: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True, status=User.Status.ACTIVE)
        return self.create_user(name, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person or service account; the name is unique within its domain."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending moderation"
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, default=DEFAULT_DOMAIN_ID, related_name="users")
    name = models.CharField(max_length=255)
    email = models.EmailField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin site.")
    default_project = models.ForeignKey("Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    password_changed_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "name"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="user_name_unique_per_domain")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Only active users may log in or get tokens."""
        return self.status == self.Status.ACTIVE

    @property
    def enabled(self) -> bool:
        return self.is_active


class ProjectQuerySet(models.QuerySet):
    """Queries over projects."""

    def visible_to(self, ctx) -> ProjectQuerySet:
        """Admins see all projects; others see the projects they have a role on."""
        if ctx.is_admin:
            return self
        return self.filter(assignments__user_id=ctx.user_id).distinct()


class Project(models.Model):
    """A project (tenant): owner of every resource and holder of quota."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, default=DEFAULT_DOMAIN_ID, related_name="projects")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="project_name_unique_per_domain")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A role such as admin, member or reader."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    """A user's role on a project; a user with any role on a project is its member."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project", "role"], name="assignment_unique"),
        ]
        indexes = [models.Index(fields=["project", "user"])]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.project_id}:{self.role_id}"


class Service(models.Model):
    """A catalog service (identity, compute, image, ...)."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    type = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["type"]

    def __str__(self) -> str:
        return self.type


class Endpoint(models.Model):
    """A catalog endpoint; `url` may hold `$(public_url)s` and `$(project_id)s` placeholders."""

    class Interface(models.TextChoices):
        PUBLIC = "public"
        INTERNAL = "internal"
        ADMIN = "admin"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="endpoints")
    interface = models.CharField(max_length=16, choices=Interface.choices)
    region = models.CharField(max_length=64, default="RegionOne")
    url = models.CharField(max_length=512)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "interface", "region"], name="endpoint_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}/{self.interface}"


class ApplicationCredential(models.Model):
    """A secret a user gives to scripts: authenticates as the user, scoped to one project."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="application_credentials")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="application_credentials")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    secret_hash = models.CharField(max_length=255)
    roles = models.ManyToManyField(Role, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    unrestricted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="app_cred_name_unique_per_user")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RevocationEvent(models.Model):
    """Tokens matching this event and issued at or before `issued_before` are invalid.

    Exactly the non-empty match fields must equal the token's: a single token (audit_id), all of
    a user's tokens, a project's, a user's on one project, or an application credential's.
    """

    audit_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    user_id = models.CharField(max_length=64, blank=True, default="")
    project_id = models.CharField(max_length=64, blank=True, default="")
    app_cred_id = models.CharField(max_length=64, blank=True, default="")
    issued_before = models.DateTimeField()
    revoked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["revoked_at"])]


class ProjectApplication(models.Model):
    """A user's request for a new project with the quota limits it wants (Synnefo-style)."""

    class State(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DENIED = "denied"
        CANCELLED = "cancelled"

    applicant = models.ForeignKey(User, on_delete=models.CASCADE, related_name="project_applications")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    requested_limits = models.JSONField(default=dict, blank=True, help_text="resource name -> limit")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    reason = models.TextField(blank=True, default="", help_text="Why it was denied, or a note on approval.")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


from identity.quota_models import Commission, Holding, Provision, Resource  # noqa: E402,F401
