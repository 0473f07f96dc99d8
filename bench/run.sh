#!/usr/bin/env bash
# `npm run bench`: sysbench against a private MariaDB and against marmot-ts in one run, on loopback.
# Knobs (environment): BENCH_TIME (s per run, default 20), BENCH_THREADS (4), BENCH_TABLES (4),
# BENCH_TABLE_SIZE (10000), BENCH_PS_MODE (auto|disable), BENCH_WORKLOADS (comma list).
# Results: printed, and written to bench/results/sysbench-<timestamp>.json.
# `npm run bench:matrix` (= bench/run.sh matrix [options]): the whole matrix, see bench/matrix.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
script=sysbench
if [ "${1:-}" = matrix ]; then script=matrix; shift; fi
for tool in sysbench mariadbd mariadb-install-db; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install sysbench mariadb-server; Galera: galera-4 mariadb-backup socat)" >&2; exit 2; }
done
exec node --import tsx "bench/$script.ts" "$@"
