"""hwbench: one workload across engines and devices, parity checked before speed."""

import os

# torch auto-loads installed device backends on import; a torch_npu wheel without CANN makes
# `import torch` itself fail (REFERENCE.md, "Ascend through torch_npu"). The npu backend
# imports torch_npu explicitly and reports why it cannot, so autoload stays off.
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

__version__ = "0.1.0"
