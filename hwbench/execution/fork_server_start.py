"""The fork server's first preload (hwbench.execution.process): torch, then the device-runtime
guard (hwbench.execution.fork_guard) in place before any other module loads. Never imported
elsewhere: the parent process may initialize devices (it asks whether they are available)."""

import torch  # noqa: F401  (torch.cuda's entry points must exist to be guarded)

from hwbench.execution import fork_guard

fork_guard.install()
