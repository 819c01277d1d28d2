"""One suite across the nodes of a Ray cluster (`hwbench run --ray ADDRESS`).

Ray does the scheduling, the transport and the node bookkeeping; hwbench adds no scheduler,
RPC or file copying of its own. The stages, one module each:
  connect    import Ray (an optional extra) and join a cluster, or start one on 127.0.0.1
  nodes      the live nodes, each probed for its hwbench version, environment and devices
  placement  which node runs each case, by Ray resources (GPU, NPU, CPU) and node= pins
  task       the Ray task: one case through the existing worker protocol on its node
  machines   one result file per machine (results/<machine>/), saved after each case
  manifest   the fleet run's manifest, beside them
  runner     submits the tasks, gathers records, turns a lost node's cases into failures
  summary    the tables printed at the end; command: the `run --ray` command itself
"""
