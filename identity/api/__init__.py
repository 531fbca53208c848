"""Identity's HTTP APIs: Keystone v3 (and v2.0 tokens) and the portal REST API."""
