"""The gateway: the single public entry (identities, tokens, routing, limits, docs)."""
