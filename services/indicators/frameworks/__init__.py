"""frameworks: strategies, their axes and objectives."""
