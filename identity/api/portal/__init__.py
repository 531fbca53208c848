"""The portal REST API of identity under /api/: projects, members, quotas, resources, applications, audit."""
