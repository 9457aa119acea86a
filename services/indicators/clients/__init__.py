"""HTTP clients of the services whose aggregates indicators are computed from."""
