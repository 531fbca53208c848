"""Django admin: the audit log, read-only (it is written only by services)."""

from django.contrib import admin
from django.http import HttpRequest

from portal.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Browse and filter audit events; nobody edits or deletes them here."""

    list_display = ("time", "actor_name", "action", "target_repr", "project_id", "result", "request_id")
    list_filter = ("result", "action")
    search_fields = ("actor_name", "actor_id", "target_id", "target_repr", "request_id")
    date_hierarchy = "time"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
