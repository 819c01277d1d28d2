"""`python -m hwbench` and the `hwbench` script: the command line, with Ctrl-C or SIGTERM
while modules are still importing (before a command handles them) ended in one line too."""

import signal
import sys

from hwbench.errors import Terminated, raise_terminated

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + signal, as hwbench.cli exits


def run() -> int:
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        from hwbench.cli import main

        return main()
    except KeyboardInterrupt as stop:
        what = "terminated" if isinstance(stop, Terminated) else "interrupted"
        print(f"hwbench: {what} while starting; nothing was measured", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(run())
