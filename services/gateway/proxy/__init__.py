"""Routing `/api/v1/<service>/...` to the services, streaming both ways."""
