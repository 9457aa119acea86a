"""Aggregate statistics over the registry: counts grouped by dimensions, never personal data.
What the indicators service consumes."""
