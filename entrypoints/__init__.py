"""Ways into the service: HTTP app, settings, composition root, command line."""
