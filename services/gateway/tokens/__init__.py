"""Token issuing (OAuth2 client credentials and password grants) and the signing keys."""
