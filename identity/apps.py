"""App config of identity."""

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """Users, projects, roles, tokens, quota ledger."""

    name = "identity"
    default_auto_field = "django.db.models.BigAutoField"
