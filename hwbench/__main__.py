import sys

from hwbench.cli import main

sys.exit(main())
