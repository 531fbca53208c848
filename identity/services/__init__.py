"""Identity services: the only code that changes identity models (one transaction each)."""
