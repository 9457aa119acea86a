"""values: indicator values computed fresh from the services' live aggregates."""
