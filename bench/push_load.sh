#!/usr/bin/env bash
# The push path under load: the 16 KB demo discharge summary POSTed over
# HTTPS with mutual TLS by CONNECTIONS keep-alive connections, each request a
# new document (fresh Bundle.identifier), so every one is validated, mapped,
# redacted, verified and committed durably to SQLite before its 201. Then the
# same client against nginx answering a fixed 200 over TLS: the baseline the
# issue asks for, measured in the same run on the same machine.
# Usage: bench/push_load.sh [SECONDS] [CONNECTIONS] [RATE]   (run from anywhere)
# Without RATE the client runs a closed loop (each connection sends again
# when answered: throughput). With RATE it runs an open loop at RATE
# requests/s in all, latency counted from when each request was due: the
# latency callers see at that load (bench/push_load.cpp says more).
# Needs nginx for the baseline (apt-get install nginx-light); builds
# build-bench (Release) if needed. Prints req/s, p50, p99 for both.
set -euo pipefail
source "$(dirname "$0")/nginx_baseline.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-10}"
conns="${2:-64}"
rate="${3:-0}"
bdir="$root/build-bench"
work="$bdir/push-load"
rm -rf "$work/var"
mkdir -p "$work/var"
if [ ! -f "$bdir/build.ninja" ]; then
  cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGW_BUILD_BENCH=ON -DGW_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$bdir" --target fhir-gateway push_load -j2 >/dev/null
"$root/scripts/make-demo-certs" "$work/certs" demo-hospital demo-clinic gateway >/dev/null
sim_port=18447

cat > "$work/gateway.json" <<JSON
{
  "server": {"listen": "127.0.0.1:18445", "io_threads": 1, "cpu_threads": 2, "log_level": "warn"},
  "tls": {"cert": "$work/certs/server.crt", "key": "$work/certs/server.key",
          "client_ca": "$work/certs/ca.crt", "require_client_cert": true},
  "limits": {"rate_per_second": 0, "max_connections": 4096},
  "store": {"sqlite": "$work/var/gateway.db"},
  "forward": {
    "client_tls": {"cert": "$work/certs/gateway.crt", "key": "$work/certs/gateway.key", "ca": "$work/certs/ca.crt"},
    "retry": {"base_ms": 1000, "cap_ms": 60000, "max_attempts": 12},
    "deadlines": {"connect_ms": 5000, "handshake_ms": 5000, "write_ms": 10000, "read_ms": 10000},
    "poll_ms": 1000, "lease_ms": 60000, "batch": 8,
    "recipients": {"demo-clinic": {"concurrency": 4}}
  },
  "consentPolicy": "$root/config/consent-policy.json",
  "warm_up": ["$root/config/demo/discharge-summary.json"],
  "recipients": [
    {"id": "demo-hospital", "organization": "Demo General Hospital", "kind": "hospital",
     "endpoint": "https://127.0.0.1:1/fhir", "operations": ["submit"]},
    {"id": "demo-clinic", "organization": "Demo Community Clinic", "kind": "community-clinic",
     "endpoint": "https://127.0.0.1:$sim_port/fhir", "operations": ["receive", "pull"]}
  ]
}
JSON

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "push_load: nothing listens on 127.0.0.1:$1" >&2
  return 1
}
client=("$bdir/bin/push_load" --ca "$work/certs/ca.crt" --cert "$work/certs/demo-hospital.crt"
        --key "$work/certs/demo-hospital.key" --conns "$conns" --seconds "$secs" --rate "$rate"
        --body "$root/config/demo/discharge-summary.json")

cd "$root"   # mappings/ and config/ are read relative to the repository root
# The receiving clinic: every handoff is delivered (claim, HTTPS POST,
# mark delivered), as in production. A recipient that refuses connections
# would instead add a failed attempt and its retries to every push.
"$bdir/bin/fhir-gateway" clinic-sim --listen "127.0.0.1:$sim_port" \
  --tls "$work/certs/server.crt" "$work/certs/server.key" "$work/certs/ca.crt" >"$work/sim.log" 2>&1 &
pids+=($!)
wait_port "$sim_port"
"$bdir/bin/fhir-gateway" serve --config "$work/gateway.json" >"$work/gateway.out" 2>"$work/gateway.log" &
pids+=($!)
wait_port 18445
if [ "$rate" = 0 ]; then mode="closed loop"; else mode="open loop at $rate req/s"; fi
echo "body: $(wc -c <config/demo/discharge-summary.json) bytes, $conns connections, ${secs}s, $mode, $(nproc) cores shared by client and server"
printf '%-40s ' "gateway POST /fhir (full push, durable)"
"${client[@]}" --port 18445 --target '/fhir?recipient=demo-clinic'
sleep 2   # deliveries still in flight finish
echo "stored handoffs: $(sqlite3 "$work/var/gateway.db" 'select count(*) from handoff' 2>/dev/null || echo '?');" \
  "outbox by state: $(sqlite3 "$work/var/gateway.db" "select group_concat(state || ' ' || n, ', ') from (select state, count(*) n from outbox group by state)" 2>/dev/null || echo '?')"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=()

if start_nginx_baseline "$work" 18446; then
  wait_port 18446
  printf '%-40s ' "nginx POST / (fixed reply)"
  "${client[@]}" --port 18446 --target /
else
  echo "nginx not installed: no baseline (apt-get install nginx-light)"
fi
