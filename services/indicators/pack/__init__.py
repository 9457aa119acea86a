"""The standard pack of indicators (and the targets it sets with some), defined on demand."""
