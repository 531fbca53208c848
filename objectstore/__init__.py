"""The object store: Swift v1 API over deduplicated, content-addressed blocks (see docs/objectstore.md)."""
