"""Glance v2 (the `image` app): images whose data lives in the owner's object store."""
