"""Preloaded by a test's fork server: reaches CUDA's runtime at import, as a careless module
might (torch.cuda._lazy_init), outside the guard's strict mode."""

import contextlib

import torch

with contextlib.suppress(AssertionError, RuntimeError):  # a CPU build: "not compiled with CUDA"
    torch.cuda._lazy_init()
