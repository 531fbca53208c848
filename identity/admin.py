"""Django admin registration of identity models, with a UserAdmin fitted to Nefos's User model.

The dashboard's admin pages (under /manage/) go through services; the Django admin is the
operator's low-level tool and edits rows directly.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, ReadOnlyPasswordHashField
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from identity.models import (
    ApplicationCredential,
    Domain,
    Endpoint,
    Project,
    ProjectApplication,
    Role,
    RoleAssignment,
    Service,
    User,
)
from identity.quota_models import Commission, Holding, Provision, Resource


class UserCreationForm(BaseUserCreationForm):
    """Add a user: name, email, status and a password given twice (stored hashed by set_password)."""

    class Meta:
        model = User
        fields = ("name", "email", "status")

    def clean_name(self) -> str:
        """Names are unique within the Default domain."""
        name = self.cleaned_data["name"].strip()
        if User.objects.filter(domain_id=self.instance.domain_id, name=name).exists():
            raise ValidationError("A user with this name already exists.")
        return name


class UserChangeForm(forms.ModelForm):
    """Change a user; the password hash is read-only (the admin has a separate set-password form)."""

    password = ReadOnlyPasswordHashField(
        label="Password",
        help_text="Raw passwords are not stored. Use the set-password form to change this user's password.",
    )

    class Meta:
        model = User
        fields = "__all__"


class RoleAssignmentInline(admin.TabularInline):
    """A user's or project's role assignments, edited in place."""

    model = RoleAssignment
    extra = 0
    autocomplete_fields = ("user", "project", "role")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users: name, email, status, staff flag, default project; passwords hashed through set_password."""

    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("name", "email", "status", "is_staff", "default_project", "created_at")
    list_filter = ("status", "is_staff", "is_superuser", "domain")
    list_select_related = ("default_project",)
    search_fields = ("name", "email")
    ordering = ("name",)
    readonly_fields = ("id", "created_at", "password_changed_at", "last_login")
    autocomplete_fields = ("default_project",)
    filter_horizontal = ("groups", "user_permissions")
    inlines = (RoleAssignmentInline,)
    fieldsets = (
        (None, {"fields": ("id", "domain", "name", "password")}),
        ("Profile", {"fields": ("email", "description", "default_project")}),
        ("Status", {"fields": ("status", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("created_at", "password_changed_at", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("name", "email", "status", "password1", "password2")}),)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Projects and their members."""

    list_display = ("name", "domain", "enabled", "created_at")
    list_filter = ("enabled", "domain")
    search_fields = ("name", "id", "description")
    readonly_fields = ("id", "created_at")
    inlines = (RoleAssignmentInline,)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    """Roles (admin, member, reader, ...)."""

    list_display = ("name", "description")
    search_fields = ("name",)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    """Who has which role on which project."""

    list_display = ("user", "project", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "project", "role")
    search_fields = ("user__name", "project__name")
    autocomplete_fields = ("user", "project", "role")


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    """Keystone domains (Nefos uses Default)."""

    list_display = ("name", "id", "enabled")


class EndpointInline(admin.TabularInline):
    """A service's endpoints."""

    model = Endpoint
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    """Catalog services with their endpoints."""

    list_display = ("type", "name", "enabled")
    inlines = (EndpointInline,)


@admin.register(ApplicationCredential)
class ApplicationCredentialAdmin(admin.ModelAdmin):
    """Application credentials; the secret is stored hashed and never shown."""

    list_display = ("name", "user", "project", "expires_at", "created_at")
    list_select_related = ("user", "project")
    search_fields = ("name", "user__name", "project__name")
    exclude = ("secret_hash",)
    readonly_fields = ("id", "created_at")


@admin.register(ProjectApplication)
class ProjectApplicationAdmin(admin.ModelAdmin):
    """Project applications (decide them on the dashboard's applications page)."""

    list_display = ("name", "applicant", "state", "created_at", "decided_by", "decided_at")
    list_filter = ("state",)
    list_select_related = ("applicant", "decided_by")
    search_fields = ("name", "applicant__name")


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    """Declared quota resources and their default limits."""

    list_display = ("name", "description", "unit", "default_project_limit", "default_user_limit")


@admin.register(Holding)
class HoldingAdmin(admin.ModelAdmin):
    """Quota holdings: limit and usage bracket per project (or member) and resource."""

    list_display = ("project", "user", "resource", "limit", "usage_min", "usage_max")
    list_filter = ("resource",)
    list_select_related = ("project", "user", "resource")
    search_fields = ("project__name", "user__name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Holding]:
        return super().get_queryset(request).with_bracket()

    @admin.display(description="usage min")
    def usage_min(self, obj: Holding) -> int:
        """Accepted usage minus pending releases (derived, see quota_models)."""
        return obj.usage_min


class ProvisionInline(admin.TabularInline):
    """A commission's provisions."""

    model = Provision
    extra = 0
    readonly_fields = ("holding", "quantity")
    can_delete = False


@admin.register(Commission)
class CommissionAdmin(admin.ModelAdmin):
    """Quota commissions (read them here; settle them through the quota API)."""

    list_display = ("serial", "client", "project", "state", "reason", "issued_at", "resolved_at")
    list_filter = ("state", "client")
    list_select_related = ("project",)
    inlines = (ProvisionInline,)
