"""snapshots: frozen, dated runs of indicator values for official reporting."""
