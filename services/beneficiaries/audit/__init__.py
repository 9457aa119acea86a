"""Reading the registry's audit trail."""
