"""definitions: indicators and their definitions, version by version."""
