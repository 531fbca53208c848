"""Services of the image service: the only code that changes image records."""
