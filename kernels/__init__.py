"""Operator kernels: one file per operator, a reference plus device variants."""
