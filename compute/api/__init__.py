"""Nova v2.1 API (`/compute`): thin views over `compute.services`."""
