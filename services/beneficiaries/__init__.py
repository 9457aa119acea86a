"""The social registry: households, individuals, programmes, enrollments."""
