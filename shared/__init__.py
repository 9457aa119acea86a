"""Framework-level kit shared by every INDS service. Imports no service."""
