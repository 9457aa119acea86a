"""The INDS services: gateway, beneficiaries, funding, indicators."""
