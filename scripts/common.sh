# Shared by scripts/run and scripts/test: install what is missing, build,
# fetch the pinned FHIR packages. Sourced, not executed.
# Idempotent: when everything is present each step is a quick check.
set -euo pipefail

GW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${GW_JOBS:-$(nproc)}"

# Debian 12 packages the build and the tests need. postgresql: the store
# tests start a throwaway server (initdb/pg_ctl from /usr/lib/postgresql/15/bin,
# run as the package's `postgres` account when the tests run as root).
# chromium: the conformance kit's test opens its HTML report in headless Chromium.
GW_APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates
  libboost1.81-dev rapidjson-dev libssl-dev libsqlite3-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev postgresql
  nodejs
  chromium
)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

gw_install_deps() {
  local missing=()
  for p in "${GW_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # npm may come from Debian's package or with a nodejs build that bundles it.
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# gw_build DIR BUILD_TYPE SANITIZE(ON|OFF) [extra cmake args...]
gw_build() {
  local dir="$1" type="$2" sanitize="$3"
  shift 3
  if [ ! -f "$GW_ROOT/$dir/build.ninja" ]; then
    cmake -S "$GW_ROOT" -B "$GW_ROOT/$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" \
      -DGW_SANITIZE="$sanitize" "$@" >/dev/null
  fi
  echo "== building $dir ($type, sanitizers $sanitize)"
  cmake --build "$GW_ROOT/$dir" -j "$JOBS"
}

# gw_fetch_packages BINARY: the pinned FHIR packages into the cache
# (--fhir-cache / $FHIR_PACKAGE_CACHE / ~/.fhir/packages).
gw_fetch_packages() {
  local bin="$1"
  if "$bin" --help | grep -q '^  packages'; then
    echo "== FHIR packages (pinned, checksummed)"
    "$bin" packages install --manifest "$GW_ROOT/config/packages/package-lock.json"
  fi
}

# gw_build_profiles BINARY: our own FHIR package (fhir-profiles/) built from
# its differential-only sources (snapshots generated and checked) and
# installed into the cache as migrantcare.fhir.gateway#0.1.0, so the gateway
# loads it like any other package. Rebuilt every time: it takes seconds and
# keeps the cache in step with the sources. Tests build their own copy
# (tests/support/profiles_support.hpp) and do not depend on this step.
gw_build_profiles() {
  local bin="$1"
  if "$bin" packages --help 2>/dev/null | grep -q 'build SOURCE_DIR'; then
    echo "== FHIR package fhir-profiles (migrantcare.fhir.gateway)"
    "$bin" packages build "$GW_ROOT/fhir-profiles"
  fi
}
