"""The HTTP clients the gateway uses to reach the services (beyond proxying)."""
