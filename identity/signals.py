"""Signals identity sends for other apps to hook into without identity importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent at the end of `manage.py bootstrap` (idempotent, so receivers must be too), with
# `admin_user` and `admin_project`: apps seed their defaults here (flavors, a public network,
# a public image), so a user who has just signed up can use them at once.
bootstrapped = Signal()

# Sent by `projects.delete_project` inside its transaction, before anything is revoked or deleted,
# with `project`. A receiver refuses the deletion by raising a `portal.errors.DomainError` (e.g.
# InvalidState while the project still owns servers on clusters), so nothing is lost silently.
project_deleting = Signal()
