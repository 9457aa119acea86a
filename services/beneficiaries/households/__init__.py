"""Households and their members: registration, updates, membership changes."""
