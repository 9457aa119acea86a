"""Agreements: partners' commitments to projects, their tranches and their balance."""
