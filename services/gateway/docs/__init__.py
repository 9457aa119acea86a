"""One OpenAPI document and docs page for the whole platform."""
