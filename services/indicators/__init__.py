"""Monitoring and evaluation: indicator definitions, targets, computed results."""
