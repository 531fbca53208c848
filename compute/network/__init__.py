"""Neutron v2.0 for Nefos: networks, subnets, ports, floating IPs and security groups (label `network`)."""
