#!/usr/bin/env bash
# `npm run bench:cluster`: 3 marmot-ts nodes (QUORUM, then ONE) and, if Debian's galera-4 is installed,
# a 3-node MariaDB Galera cluster, all on loopback in one run: sysbench oltp_insert spread over the
# three nodes, plus a lag probe (ack on node 1 -> row visible on node 3). See bench/cluster.ts.
# Knobs (environment): BENCH_TIME (s, default 20), BENCH_THREADS (6), BENCH_TABLES (4),
# BENCH_TABLE_SIZE (10000), BENCH_WORKERS (MySQL workers per marmot node, 1), BENCH_LEVELS (QUORUM,ONE),
# BENCH_GALERA (auto|off), GALERA_TOOLS (dir with galera-up.sh/galera-down.sh, /work/shared/tools/galera),
# BENCH_PROBE_GAP_MS (20), BENCH_IDLE_SAMPLES (100).
# Results: printed, and written to bench/results/cluster-<timestamp>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sysbench >/dev/null || { echo "bench: sysbench not found (apt-get install sysbench)" >&2; exit 2; }
exec node --import tsx bench/cluster.ts "$@"
