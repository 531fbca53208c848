"""Neutron v2.0 API views (thin: parse, check policy, call services, render)."""
