"""Partner lists (WFP's, say) matched against the registry."""
