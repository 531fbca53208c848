"""Shared API building blocks: token authentication, fault rendering, base views."""
