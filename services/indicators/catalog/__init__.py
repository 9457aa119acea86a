"""catalog: the measures and dimensions expressions may use, from every source."""
