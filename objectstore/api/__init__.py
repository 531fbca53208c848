"""The Swift v1 API of the object store (plain Django views, so bodies stream both ways)."""
