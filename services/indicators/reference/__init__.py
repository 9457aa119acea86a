"""reference: population tables and poverty lines, usable as measures."""
