"""The dashboard shell: home, layout helpers."""
