"""Management commands of backend_ganeti (the gnt_* tools) and their shared helpers."""
