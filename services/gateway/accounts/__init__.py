"""API clients and users: who may get a token, with which roles."""
