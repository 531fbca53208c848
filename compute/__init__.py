"""The compute app (filled by its own issue)."""
