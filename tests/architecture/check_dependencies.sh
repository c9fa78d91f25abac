#!/usr/bin/env bash
# Fails when a module includes what it must not (STYLE.md §1-2, §9):
#  - another module's private headers (gateway/<m>/detail/...);
#  - a module outside its allowed dependencies (the inward-pointing graph);
#  - RapidJSON outside gateway/json; Asio/Beast/SQLite/libpq/OpenSSL in a
#    domain module.
# Usage: check_dependencies.sh SOURCE_DIR
set -uo pipefail
root="${1:?source dir}"
cd "$root/gateway" || exit 2

# module -> modules it may include (besides itself). Keep in step with the
# target_link_libraries lines; app may include everything.
declare -A allowed=(
  [core]=""
  [json]="core"
  [primitives]="core"
  [packages]="core json"
  [fhir]="core json packages"
  [fhirpath]="core json packages fhir primitives"
  [terminology]="core json packages fhir"
  [validation]="core json packages fhir fhirpath primitives terminology"
  [consent]="core json packages fhir fhirpath primitives"
  [handoff]="core json packages fhir fhirpath primitives terminology validation consent"
  # store is a port with adapters: its public header is plain values and an
  # abstract Store; SQLite and libpq stay in its .cpp files.
  [store]="core json"
  [forward]="core json store"
  # exchange: the push and pull use cases (validate, map, redact, verify,
  # commit); it wires the domain to the Store port, not to SQL.
  [exchange]="core json packages fhir fhirpath primitives terminology validation consent handoff store"
  # signing: an adapter (OpenSSL) implementing exchange's DocumentSigner
  # port; it sees exchange's public header only (the port), nothing else.
  [signing]="core json exchange"
  # conformance: the TestScript engine; HTTP comes through its Transport
  # interface (implemented in app), so it stays free of I/O libraries.
  [conformance]="core json packages fhir fhirpath primitives terminology validation"
  [http]="core json packages fhir fhirpath primitives terminology validation consent handoff store exchange signing"
)
domain="core json primitives packages fhir fhirpath terminology validation consent handoff exchange conformance"

status=0
report() { echo "dependency violation: $*"; status=1; }

for dir in */; do
  m="${dir%/}"
  while IFS= read -r line; do
    file="${line%%:*}"
    inc=$(sed -E 's/.*#include[[:space:]]*[<"]([^>"]+)[>"].*/\1/' <<<"${line#*:}")
    case "$inc" in
      gateway/*)
        other=$(cut -d/ -f2 <<<"$inc")
        [ "$other" = "$m" ] && continue
        [[ "$inc" == gateway/$other/detail/* ]] && report "$m/$file includes private $inc"
        [ "$m" = app ] && continue
        if [ -n "${allowed[$m]+x}" ] && ! grep -qw "$other" <<<"${allowed[$m]}"; then
          report "$m/$file includes $inc ($m may use: ${allowed[$m]:-nothing})"
        fi
        ;;
      rapidjson/*)
        [ "$m" != json ] && report "$m/$file includes $inc (RapidJSON stays in gateway/json)"
        ;;
      boost/asio*|boost/beast*|sqlite3.h|libpq-fe.h|openssl/*)
        if grep -qw "$m" <<<"$domain"; then
          # packages verifies tarball integrity with OpenSSL's digest, not I/O.
          [[ "$m" == packages && "$inc" == openssl/* ]] && continue
          report "$m/$file includes $inc (domain modules stay free of I/O libraries)"
        fi
        ;;
    esac
  done < <(cd "$m" && grep -rnE '^[[:space:]]*#[[:space:]]*include' --include='*.hpp' --include='*.cpp' --include='*.h' . | sed 's|^\./||')
done
if [ $status = 0 ]; then echo "module dependencies: ok"; fi
exit $status
