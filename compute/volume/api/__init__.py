"""Cinder v3 API views, mounted at /volume."""
