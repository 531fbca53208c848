"""Nova's services: the only code that changes flavors, key pairs and servers."""
