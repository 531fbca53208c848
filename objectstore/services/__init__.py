"""Object storage services: the only code that changes objectstore models."""
