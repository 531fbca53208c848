"""The compute dashboard: servers, the create wizard, networks, floating IPs, images and key pairs."""
