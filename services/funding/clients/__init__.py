"""The other services the funding service calls, each through a typed client."""
