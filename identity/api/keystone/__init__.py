"""The Keystone v3-compatible API under /identity."""
