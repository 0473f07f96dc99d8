#!/usr/bin/env bash
# Starts node 1 of a loopback cluster in the background: the seed the other nodes join through.
#   examples/start-seed.sh            MySQL on 127.0.0.1:3307, peers on 127.0.0.1:8081
# Environment: NODE_ID (1), MYSQL_PORT (3306 + NODE_ID), GRPC_PORT (8080 + NODE_ID),
# DATA_DIR (./examples-data/node-$NODE_ID), MARMOT_CLUSTER_SECRET (a demo secret), WORKERS (1).
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_ID="${NODE_ID:-1}"
export NODE_ID
export SEED_NODES="${SEED_NODES:-}"
exec bash examples/join-cluster.sh "$NODE_ID"
