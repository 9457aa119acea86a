"""Bulk import: many validated households written at once."""
