// Fuzz target: bytes -> FHIRPath compile -> evaluate on a few System values.
// Invariants: nothing crashes or overflows the stack whatever the text;
// every failure is an error value (compile errors located "offset N"); an
// evaluation stays within its depth and item limits. No model is loaded, so
// the target is fast; the evaluator's model-free paths (operators, string,
// math, conversion, regex, iif, repeat, sort, aggregate) are all reachable.
#include <cstdint>
#include <string>

#include "gateway/core/core.hpp"
#include "gateway/fhirpath/fhirpath.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto expr = gw::fhirpath::Expression::compile(text);
  if (!expr) {
    GW_ASSERT(expr.error().location().rfind("offset ", 0) == 0 || expr.error().code() == gw::ErrorCode::kLimit,
              "compile errors carry an offset");
    return 0;
  }
  using gw::fhirpath::Item;
  gw::fhirpath::Collection input{Item::integer(1), Item::string("ab"),
                                 Item::decimal(gw::primitives::Decimal::from_int64(3))};
  gw::fhirpath::EvaluationContext ctx;
  ctx.max_items = 10000;
  ctx.max_depth = 100;
  ctx.variables["v"] = input;
  for (const auto& in : {gw::fhirpath::Collection{}, input}) {
    auto r = expr->evaluate(in, ctx);
    if (r) {
      GW_ASSERT(r->size() <= ctx.max_items, "item limit holds");
      (void)gw::fhirpath::to_json(*r);
    } else {
      GW_ASSERT(r.error().code() != gw::ErrorCode::kOk, "an error says what kind it is");
    }
  }
  return 0;
}
