"""The web console: static pages served at `/console/` that call the public API with the
signed-in person's own token."""
