"""Keystone URLs (mounted at /identity)."""

urlpatterns: list = []
