"""Quota ledger data: resources, holdings and two-phase commissions (Synnefo/Astakos style).

A holding is what one holder (a project, or a user within a project) has of one resource:
its limit and a usage bracket [usage_min, usage_max]. Only `usage_max` (accepted usage plus
pending charges) is stored: it is what every new charge is checked against, so `usage_max <=
limit` holds whatever the pending commissions become. `usage_min` (accepted usage minus pending
releases) is derived from the pending provisions, so accepting a charge, the common case, does
not touch the holding row that concurrent charges queue on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone


class Resource(models.Model):
    """A quota resource declared by an app, e.g. `compute.cores`."""

    name = models.CharField(primary_key=True, max_length=64)
    description = models.CharField(max_length=255, blank=True, default="")
    unit = models.CharField(max_length=16, blank=True, default="")
    default_project_limit = models.BigIntegerField(default=0)
    default_user_limit = models.BigIntegerField(
        null=True, blank=True, help_text="Per-member limit inside a project; empty means no per-user limit."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HoldingQuerySet(models.QuerySet):
    """Queries over holdings."""

    def with_bracket(self) -> HoldingQuerySet:
        """Annotate `pending_charges`, `pending_releases` (both >= 0) and `usage_min`."""
        pending = models.Q(provisions__commission__state=Commission.State.PENDING)
        charges = Coalesce(models.Sum("provisions__quantity", filter=pending & models.Q(provisions__quantity__gt=0)), 0)
        releases = Coalesce(
            models.Sum("provisions__quantity", filter=pending & models.Q(provisions__quantity__lt=0)), 0
        )
        return self.annotate(pending_charges=charges, pending_releases=-releases).annotate(
            usage_min=models.F("usage_max") - models.F("pending_charges") - models.F("pending_releases")
        )


class Holding(models.Model):
    """One holder's limit and usage bracket for one resource.

    The holder is a project (`user` empty) or a user inside a project.
    """

    project = models.ForeignKey("identity.Project", on_delete=models.CASCADE, related_name="holdings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="holdings"
    )
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="holdings")
    limit = models.BigIntegerField()
    usage_max = models.BigIntegerField(default=0, help_text="Accepted usage plus pending charges.")

    objects = HoldingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "resource"], condition=models.Q(user=None), name="holding_project_unique"
            ),
            models.UniqueConstraint(
                fields=["project", "user", "resource"],
                condition=~models.Q(user=None),
                name="holding_user_unique",
            ),
            models.CheckConstraint(condition=models.Q(usage_max__gte=0), name="holding_usage_max_nonnegative"),
        ]

    def __str__(self) -> str:
        who = f"{self.project_id}/{self.user_id}" if self.user_id else self.project_id
        return f"{who}:{self.resource_id}"


class Commission(models.Model):
    """A batch of provisions issued together, then accepted or rejected as a whole."""

    class State(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    serial = models.BigAutoField(primary_key=True)
    client = models.CharField(max_length=64, help_text="The app that issued it, e.g. `compute`.")
    client_key = models.CharField(max_length=128, help_text="The client's idempotency key for this commission.")
    project = models.ForeignKey(
        "identity.Project", on_delete=models.CASCADE, related_name="commissions", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reason = models.CharField(max_length=255, blank=True, default="")
    target = models.CharField(max_length=255, blank=True, default="", help_text="What it is for, e.g. server id.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    issued_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "client_key"], name="commission_client_key_unique")]
        # Every commission row is written twice (issued, then settled), so it carries few indexes:
        # no LIKE-pattern twins of the foreign keys (`db_index` would make them on PostgreSQL), and
        # the resolver's "pending since" index only holds pending rows (settling removes the entry).
        indexes = [
            models.Index(fields=["project"], name="commission_project"),
            models.Index(fields=["user"], name="commission_user"),
            models.Index(fields=["issued_at"], condition=models.Q(state="pending"), name="commission_pending"),
        ]

    def __str__(self) -> str:
        return f"commission {self.serial} ({self.state})"


class Provision(models.Model):
    """One holding's share of a commission: a signed quantity of one resource."""

    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="provisions")
    holding = models.ForeignKey(Holding, on_delete=models.CASCADE, related_name="provisions")
    quantity = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.holding}: {self.quantity:+d}"
