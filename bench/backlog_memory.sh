#!/usr/bin/env bash
# Memory of the forwarder while a large outbox backlog drains (issue #8).
#
# Seeds ROWS outbox rows (~1 KB documents, distinct Bundle.identifier each)
# into a fresh SQLite store through the Store API (build-bench/bin/
# backlog_seed), starts a clinic simulator (mutual TLS) and
# `fhir-gateway forward` on that store, and every second samples the
# forwarder's VmRSS/VmHWM from /proc and the rows left (sqlite3). Stops when
# the outbox is drained or after LIMIT seconds, then prints peak RSS, drain
# rate and elapsed time, and checks the clinic's count of duplicates is 0.
#
# Usage: bench/backlog_memory.sh [ROWS] [LIMIT_SECONDS] [CONCURRENCY] [BATCH]
#   defaults: 1000000 rows, 1800 s, 8 connections, 32 rows per claim
# Needs: sqlite3, curl. Builds build-bench (Release) targets if needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-1000000}"
limit="${2:-1800}"
conc="${3:-8}"
batch="${4:-32}"
bdir="$root/build-bench"
work="$bdir/backlog-memory"
sim_port=18471
ctl_port=18472

if [ ! -f "$bdir/build.ninja" ]; then
  cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGW_BUILD_BENCH=ON -DGW_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$bdir" --target fhir-gateway backlog_seed -j2 >/dev/null
gw="$bdir/bin/fhir-gateway"

rm -rf "$work"
mkdir -p "$work"
"$root/scripts/make-demo-certs" "$work/certs" gateway >/dev/null
db="$work/gateway.db"

echo "== seeding $rows rows"
"$bdir/bin/backlog_seed" "$db" "$rows" demo-clinic 1024
echo "store file: $(du -h "$db" | cut -f1)"

cat > "$work/forward.json" <<JSON
{
  "store": {"sqlite": "$db"},
  "forward": {
    "client_tls": {"cert": "$work/certs/gateway.crt", "key": "$work/certs/gateway.key", "ca": "$work/certs/ca.crt"},
    "retry": {"base_ms": 100, "cap_ms": 5000, "max_attempts": 1000},
    "deadlines": {"connect_ms": 5000, "handshake_ms": 5000, "write_ms": 10000, "read_ms": 10000},
    "poll_ms": 1000, "lease_ms": 60000, "batch": $batch,
    "recipients": {"demo-clinic": {"concurrency": $conc}}
  },
  "recipients": [
    {"id": "demo-clinic", "endpoint": "https://127.0.0.1:$sim_port/fhir", "operations": ["receive"]}
  ]
}
JSON

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$gw" clinic-sim --listen "127.0.0.1:$sim_port" --control "127.0.0.1:$ctl_port" \
  --tls "$work/certs/server.crt" "$work/certs/server.key" "$work/certs/ca.crt" >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$work/sim.log" && break; sleep 0.1; done

left() { sqlite3 -cmd ".timeout 10000" "$db" "SELECT COUNT(*) FROM outbox WHERE state IN ('pending','in_flight')"; }

"$gw" forward --config "$work/forward.json" --threads 2 >"$work/forward.out" 2>"$work/forward.err" &
fwd=$!
pids+=($fwd)
start=$(date +%s.%N)
peak_rss=0
peak_hwm=0
echo "== draining (concurrency $conc, batch $batch); one line per 10 s"
printf "%8s %10s %10s %9s %9s\n" elapsed delivered rate/s rss_MB hwm_MB
i=0
remaining=$rows
while :; do
  sleep 1
  i=$((i + 1))
  rss=$(awk '/^VmRSS/{print $2}' /proc/$fwd/status)
  hwm=$(awk '/^VmHWM/{print $2}' /proc/$fwd/status)
  [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
  [ "$hwm" -gt "$peak_hwm" ] && peak_hwm=$hwm
  now=$(date +%s.%N)
  el=$(echo "$now - $start" | bc -l)
  if [ $((i % 10)) -eq 0 ] || [ "$i" -le 2 ]; then
    remaining=$(left)
    done_n=$((rows - remaining))
    printf "%8.0f %10d %10.0f %9.1f %9.1f\n" "$el" "$done_n" "$(echo "$done_n / $el" | bc -l)" \
      "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"
    [ "$remaining" -eq 0 ] && break
  fi
  if [ "$(echo "$el > $limit" | bc -l)" -eq 1 ]; then
    remaining=$(left)
    break
  fi
done
end=$(date +%s.%N)
kill -TERM "$fwd"
wait "$fwd" || true
el=$(echo "$end - $start" | bc -l)
delivered=$((rows - remaining))
counts=$(curl -s "http://127.0.0.1:$ctl_port/received" | head -c 200 || true)
echo "== result"
echo "rows seeded:        $rows"
echo "delivered:          $delivered in $(printf %.1f "$el") s ($(printf %.0f "$(echo "$delivered / $el" | bc -l)")/s)"
echo "left in outbox:     $remaining"
echo "forwarder peak RSS: $(printf %.1f "$(echo "$peak_rss / 1024" | bc -l)") MB (VmHWM $(printf %.1f "$(echo "$peak_hwm / 1024" | bc -l)") MB)"
echo "forwarder says:     $(grep delivered "$work/forward.out" || true)"
echo "clinic counts:      ${counts%%,\"items\"*}}"
case "$counts" in
  *'"duplicates":0'*) ;;
  *) echo "FAIL: the clinic saw duplicates (or did not answer)"; exit 1 ;;
esac
