"""The Glance v2 API of the image service (thin views over `compute.image.services`)."""
