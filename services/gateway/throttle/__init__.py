"""Slowing down password and secret guessing at `POST /auth/token`."""
