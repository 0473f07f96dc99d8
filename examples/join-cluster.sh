#!/usr/bin/env bash
# Starts node N of a loopback cluster in the background and joins it through the seed.
#   examples/join-cluster.sh 2        MySQL on 127.0.0.1:3308, peers on 127.0.0.1:8082, seed 127.0.0.1:8081
# Environment: MYSQL_PORT (3306 + N), GRPC_PORT (8080 + N), SEED_NODES (127.0.0.1:8081; empty for
# the seed itself), DATA_DIR (./examples-data/node-N), MARMOT_CLUSTER_SECRET, WORKERS (1).
# Stop a node with: kill "$(cat <data dir>/marmot.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:?usage: join-cluster.sh <node-id>}"
MYSQL_PORT="${MYSQL_PORT:-$((3306 + N))}"
GRPC_PORT="${GRPC_PORT:-$((8080 + N))}"
SEED_NODES="${SEED_NODES-127.0.0.1:8081}"
DATA_DIR="${DATA_DIR:-./examples-data/node-$N}"
WORKERS="${WORKERS:-1}"
export MARMOT_CLUSTER_SECRET="${MARMOT_CLUSTER_SECRET:-examples-cluster-secret}"
mkdir -p "$DATA_DIR"
args=(--node-id "$N" --data-dir "$DATA_DIR" --mysql-port "$MYSQL_PORT" --grpc-port "$GRPC_PORT" --workers "$WORKERS")
[ -n "$SEED_NODES" ] && args+=(--seed-nodes "$SEED_NODES")
node --import tsx src/main.ts "${args[@]}" --daemon --pid-file "$DATA_DIR/marmot.pid"
# Wait until it serves MySQL (the first start compiles TypeScript, so allow a while).
for _ in $(seq 1 600); do
  if mariadb -h 127.0.0.1 -P "$MYSQL_PORT" -u root -e "SELECT 1" >/dev/null 2>&1; then
    echo "node $N: mysql 127.0.0.1:$MYSQL_PORT, peers 127.0.0.1:$GRPC_PORT, data $DATA_DIR, log $DATA_DIR/marmot.log"
    exit 0
  fi
  sleep 0.2
done
echo "node $N did not start; see $DATA_DIR/marmot.log" >&2
exit 1
