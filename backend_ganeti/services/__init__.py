"""backend_ganeti's service layer: the only code that writes its models (see DESIGN.md layering)."""
