"""Admin REST API of backend_ganeti under /api/admin/: clusters, nodes, instances, jobs."""
