"""People in the registry: search across households, read, correct."""
