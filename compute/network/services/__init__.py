"""Neutron's services: the only code that changes compute.network models (one transaction each, audited)."""
