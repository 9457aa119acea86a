"""Funding: partners, projects, agreements, transactions, payment cycles."""
