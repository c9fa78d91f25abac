#!/usr/bin/env bash
# HTTPS load on 127.0.0.1: POSTs a FHIR document Bundle (the demo discharge
# summary, ~16 KB) with 64 keep-alive connections for a bounded time, and
# prints req/s, p50 and p99 for:
#   1. gateway  POST /fhir/Bundle/$validate (parse gate on the CPU pool)
#   2. gateway  POST /bench/echo            (server path only, no validator)
#   3. nginx    POST /                      (TLS + body read + fixed reply), a baseline
# Needs wrk and nginx from Debian (apt-get install wrk nginx-light); skips
# what is missing. Builds build-bench (Release) if needed.
# Usage: bench/http_load.sh [SECONDS] [CONNECTIONS]
# Figures are for comparison on the same machine only; the load generator
# shares the cores with the server.
set -euo pipefail
source "$(dirname "$0")/nginx_baseline.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-10}"
conns="${2:-64}"
body="$root/config/demo/discharge-summary.json"
bdir="$root/build-bench"
work="$bdir/http-load"
mkdir -p "$work"

if ! command -v wrk >/dev/null; then
  echo "http_load: wrk is not installed (apt-get install wrk)" >&2
  exit 2
fi
if [ ! -f "$bdir/build.ninja" ]; then
  cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGW_BUILD_BENCH=ON -DGW_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$bdir" --target http_bench_server -j2 >/dev/null
"$root/scripts/make-demo-certs" "$work/certs" >/dev/null

# The request: wrk's Lua script with the bundle as the body.
lua_body=$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$body" | tr -d '\n')
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = "$lua_body"
wrk.headers["Content-Type"] = "application/fhir+json"
LUA

cat > "$work/gateway.json" <<JSON
{
  "server": {"listen": "127.0.0.1:18443", "io_threads": 2, "cpu_threads": 2, "log_level": "warn"},
  "tls": {"cert": "$work/certs/server.crt", "key": "$work/certs/server.key",
          "client_ca": "$work/certs/ca.crt", "require_client_cert": false},
  "limits": {"rate_per_second": 0, "max_connections": 4096},
  "recipients": [{"id": "demo-hospital", "kind": "hospital"}]
}
JSON

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() {  # wait_port PORT: until something listens (bounded)
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "http_load: nothing listens on 127.0.0.1:$1" >&2
  return 1
}

run_wrk() {  # run_wrk LABEL URL
  local out
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/post.lua" "$2")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ' || true)
  printf '%-34s %10s req/s   p50 %-9s p99 %-9s %s\n' "$1" "$rps" "$p50" "$p99" "$errors"
}

"$bdir/bin/http_bench_server" --config "$work/gateway.json" >"$work/gateway.out" 2>"$work/gateway.log" &
pids+=($!)
wait_port 18443
# Self-check: the validate route must answer 200 with an OperationOutcome
# free of errors for the demo bundle, so a fast but broken build is caught.
if command -v curl >/dev/null; then
  check=$(curl -s --cacert "$work/certs/ca.crt" -H 'Content-Type: application/fhir+json' \
    --data-binary @"$body" 'https://127.0.0.1:18443/fhir/Bundle/$validate')
  if ! grep -q '"informational"' <<<"$check"; then
    echo "http_load: self-check failed: the gateway did not validate the bundle" >&2
    exit 1
  fi
fi
echo "body: $(wc -c <"$body") bytes, $conns connections, ${secs}s each, $(nproc) cores shared with wrk"
run_wrk 'gateway POST /fhir/Bundle/$validate' 'https://127.0.0.1:18443/fhir/Bundle/$validate'
run_wrk 'gateway POST /bench/echo' 'https://127.0.0.1:18443/bench/echo'
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

if start_nginx_baseline "$work" 18444; then
  wait_port 18444
  run_wrk 'nginx POST / (fixed reply)' 'https://127.0.0.1:18444/'
else
  echo "nginx not installed: no baseline (apt-get install nginx-light)"
fi
