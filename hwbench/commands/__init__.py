"""One module per `hwbench` subcommand, each with `add_parser(subparsers)` and `main(args)`."""

COMMANDS = (
    "run",
    "list",
    "env",
    "peak",
    "floor",
    "compare",
    "gate",
    "export",
    "ab",
    "report",
    "kernels",
    "ladder",
    "schema",
    "doctor",
    "port",
)
