"""The dashboard's file browser over the object store (views call `objectstore.services`)."""
