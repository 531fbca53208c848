"""Signals identity sends for other apps to hook into without identity importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent at the end of `manage.py bootstrap` (idempotent, so receivers must be too), with
# `admin_user` and `admin_project`: apps seed their defaults here (flavors, a public network,
# a public image), so a user who has just signed up can use them at once.
bootstrapped = Signal()
