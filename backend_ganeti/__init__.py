"""The backend_ganeti app (filled by its own issue)."""
