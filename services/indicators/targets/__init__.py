"""targets: baselines and targets of indicators, and the status of a value against them."""
