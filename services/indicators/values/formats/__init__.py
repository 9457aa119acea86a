"""Indicator values as their readers want them: JSON rows, CSV, a DHIS2-style analytics
view, SDMX-JSON data messages; labelled in French or English."""
