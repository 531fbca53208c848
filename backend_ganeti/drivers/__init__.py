"""Cluster drivers: one `ClusterDriver` interface, a Ganeti RAPI and a libvirt-host implementation."""
