"""Administrative areas of the country: reference data, extensible without code changes."""
