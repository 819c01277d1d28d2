"""hwbench: one workload across engines and devices, parity checked before speed."""

import os

# torch auto-loads installed device backends on import (torch/__init__.py,
# _import_device_backends; off with TORCH_DEVICE_BACKEND_AUTOLOAD=0); a torch_npu wheel without
# CANN then makes `import torch` itself fail, as tests/e2e/test_half_installed_npu.py shows. The
# npu backend imports torch_npu explicitly and reports why it cannot, so autoload stays off.
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

__version__ = "0.1.0"
