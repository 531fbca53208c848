"""Cinder v3 for Nefos: volumes as disks of backend_ganeti instances (see docs/volume.md)."""
