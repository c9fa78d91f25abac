// Fuzz target: bytes -> hardened JSON parse -> FHIR resource gate, and a
// full read of the tree through the public API (every key, value and
// position), re-serialised with the Writer and parsed again. Invariant: a
// document the parser accepted is written back as JSON it accepts again.
#include <cstdint>
#include <string>

#include "gateway/core/core.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/json/json.hpp"

namespace {

std::size_t touch(gw::json::Value v, int depth) {
  GW_ASSERT(depth < 1000, "parser depth limit holds");
  std::size_t n = v.str().size() + v.position().line;
  for (std::size_t i = 0; i < v.size(); ++i) n += v.key(i).size() + touch(v[i], depth + 1);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto doc = gw::json::Document::parse(bytes);
  if (doc) {
    touch(doc->root(), 0);
    gw::json::Writer w;
    w.value(doc->root());
    auto again = gw::json::Document::parse(w.str());
    GW_ASSERT(again.has_value(), "written JSON parses again");
    GW_ASSERT(again->node_count() == doc->node_count(), "round trip keeps every value");
  }
  gw::fhir::ParsedResource r = gw::fhir::parse_resource(std::move(bytes));
  GW_ASSERT(r.ok() || !r.issues.empty(), "a rejection always carries an issue");
  return 0;
}
