"""A realistic synthetic Djiboutian registry, deterministic for a seed."""
