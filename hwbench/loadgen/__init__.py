"""MLPerf LoadGen (the official `mlcommons-loadgen`, module `mlperf_loadgen`) driving hwbench's
sessions: its settings, a System Under Test over a step session, the run and its logs read back.
LoadGen owns when queries arrive and whether a run is valid; nothing here re-implements either."""
