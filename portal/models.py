"""Shared portal data: the audit log of every state-changing service call."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One state-changing service call: who did what to which object, when, and how it ended."""

    class Result(models.TextChoices):
        SUCCESS = "success"
        FAILURE = "failure"

    time = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_name = models.CharField(max_length=255, blank=True, default="")
    project_id = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=64, help_text="e.g. `user.create`, `quota.issue`.")
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=255, blank=True, default="")
    target_repr = models.CharField(max_length=255, blank=True, default="")
    result = models.CharField(max_length=16, choices=Result.choices, default=Result.SUCCESS)
    detail = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-time", "-id"]
        # Plain indexes: `db_index` on a CharField also makes a LIKE-pattern twin on PostgreSQL,
        # which no query here uses and every insert (two per quota commission) would pay for.
        # An object's history (the admin log's filter, Nova's instance actions) reads by target.
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["actor_id"], name="audit_actor"),
            models.Index(fields=["project_id"], name="audit_project"),
            models.Index(fields=["action"], name="audit_action"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target_repr} {self.result}"
