"""The embedded libvirt host: a long-lived agent that owns libvirt connections for one machine.

`manage.py libvirt_host run` starts the agent (`agent.py`); it serves a small Ganeti-RAPI-like
HTTP+JSON protocol on a Unix socket (`server.py`, `api.py`), runs every write as a timed job
(`jobs.py`, `operations.py`) and persists domain definitions and jobs in a state dir (`store.py`).
The portal talks to it through `client.py` and `backend_ganeti.drivers.libvirt.LibvirtHostDriver`.
By default the nodes are libvirt test-driver connections (no guest runs); see docs/libvirt-host.md.
"""

DISK_TEMPLATES = ("file", "diskless")
