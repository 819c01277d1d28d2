"""`python -m hwbench` and the `hwbench` script: the command line, with Ctrl-C or SIGTERM
while modules are still importing (before a command handles them) ended in one line too."""

import signal
import sys

from hwbench.errors import raise_terminated, stopped


def run() -> int:
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        from hwbench.cli import main

        return main()
    except KeyboardInterrupt as stop:
        what, code = stopped(stop)
        print(f"hwbench: {what} while starting; nothing was measured", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(run())
