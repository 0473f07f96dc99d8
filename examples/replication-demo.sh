#!/usr/bin/env bash
# Starts a 3-node cluster on loopback, shows DDL and DML replicating between the nodes with the
# mariadb client, and stops the nodes again. BASE_MYSQL (3306) and BASE_GRPC (8080) move the ports:
# node N listens on BASE_MYSQL + N and BASE_GRPC + N.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_MYSQL="${BASE_MYSQL:-3306}"
BASE_GRPC="${BASE_GRPC:-8080}"
ROOT="$(mktemp -d "${TMPDIR:-/tmp}/marmot-demo-XXXXXX")"
stop_all() {
  for n in 1 2 3; do
    pidfile="$ROOT/node-$n/marmot.pid"
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  for n in 1 2 3; do
    pidfile="$ROOT/node-$n/marmot.pid"
    for _ in $(seq 1 50); do [ -f "$pidfile" ] || break; sleep 0.1; done
  done
  rm -rf "$ROOT"
}
trap stop_all EXIT
seed="127.0.0.1:$((BASE_GRPC + 1))"
for n in 1 2 3; do
  SEED_NODES="$([ "$n" = 1 ] && echo "" || echo "$seed")" MYSQL_PORT=$((BASE_MYSQL + n)) GRPC_PORT=$((BASE_GRPC + n)) \
    DATA_DIR="$ROOT/node-$n" bash examples/join-cluster.sh "$n"
done
sql() { local n=$1; shift; mariadb -h 127.0.0.1 -P $((BASE_MYSQL + n)) -u root "$@"; }
# The first write needs the nodes to see each other (a QUORUM of 3).
for _ in $(seq 1 100); do sql 1 -e "CREATE DATABASE IF NOT EXISTS demo" 2>/dev/null && break; sleep 0.2; done

echo "== node 1: CREATE TABLE and INSERT"
sql 1 demo -e "CREATE TABLE IF NOT EXISTS notes (id INT PRIMARY KEY, body VARCHAR(80) NOT NULL, node INT NOT NULL)"
sql 1 demo -e "INSERT INTO notes VALUES (1, 'written on node 1', 1)"
echo "== node 3: INSERT and UPDATE of node 1's row"
sql 3 demo -e "INSERT INTO notes VALUES (3, 'written on node 3', 3); UPDATE notes SET body = 'changed on node 3' WHERE id = 1"
echo "== node 2: ALTER TABLE ADD COLUMN, then a write to the new column"
sql 2 demo -e "ALTER TABLE notes ADD COLUMN tag VARCHAR(20) NOT NULL DEFAULT 'none'; UPDATE notes SET tag = 'from-node-2' WHERE id = 3"
sleep 2
for n in 1 2 3; do
  echo "== node $n sees:"
  sql "$n" demo --table -e "SELECT id, body, node, tag FROM notes ORDER BY id"
done
