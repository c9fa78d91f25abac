#!/usr/bin/env bash
# The dependency check must fail on a tree that breaks each rule; a check
# that never fails would assert nothing.
set -u
check="$(dirname "$0")/check_dependencies.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/gateway/json" "$tmp/gateway/fhir" "$tmp/gateway/core" "$tmp/gateway/validation/detail"
rc=0
try() {  # try FILE LINE: that single violation must be reported
  echo "$2" > "$tmp/gateway/$1"
  if "$check" "$tmp" >/dev/null; then echo "not caught: $1: $2"; rc=1; fi
  rm -f "$tmp/gateway/$1"
}
try json/a.cpp '#include "gateway/fhir/fhir.hpp"'
try fhir/a.cpp '#include <rapidjson/reader.h>'
try fhir/b.cpp '#include <boost/asio.hpp>'
try core/a.cpp '#include <sqlite3.h>'
try fhir/c.cpp '#include "gateway/validation/detail/plan.hpp"'
echo '#include "gateway/core/core.hpp"' > "$tmp/gateway/fhir/ok.cpp"
"$check" "$tmp" >/dev/null || { echo "a clean tree was rejected"; rc=1; }
[ $rc = 0 ] && echo "every violation caught"
exit $rc
