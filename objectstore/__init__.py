"""The objectstore app (filled by its own issue)."""
