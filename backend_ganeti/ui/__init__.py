"""Admin pages of backend_ganeti: clusters, nodes, instances and jobs."""
