"""Exchange rates to DJF, and every conversion the funding service makes."""
