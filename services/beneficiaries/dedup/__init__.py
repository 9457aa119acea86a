"""Probable duplicates: found through indexed phonetic keys, scored, flagged, resolved."""
