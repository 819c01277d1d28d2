"""Devices: one file per device, each a `Device` (see base.py)."""
