"""The optimization ladders: one module per device, each an ordered tuple of rungs."""
