// Fuzz target: bytes -> every primitives parser (Decimal in both grammars,
// Date/DateTime/Time/instant in both grammars, Quantity, UCUM). Each value a
// parser accepts must print as text the FHIRPath grammar parses back to the
// identical value, must compare equal to itself, and must survive the
// arithmetic and boundary functions without a crash or sanitizer report.
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/core/core.hpp"
#include "gateway/primitives/primitives.hpp"

namespace {

using namespace gw::primitives;

void decimal(std::string_view text, DecimalSyntax syntax) {
  auto d = Decimal::parse(text, syntax);
  if (!d) return;
  auto again = Decimal::parse(d->to_string(), DecimalSyntax::kFhirPath);
  GW_ASSERT(again && identical(*again, *d), "decimal text round trip");
  GW_ASSERT(equivalent(*d, *d), "decimal equivalent to itself");
  const Decimal three = Decimal::from_int64(3);
  (void)add(*d, *d);
  (void)subtract(*d, three);
  (void)multiply(*d, *d);
  (void)divide(three, *d);
  (void)divide(*d, three);
  (void)div(*d, three);
  (void)mod(*d, three);
  (void)round(*d, 2);
  (void)floor(*d);
  (void)ceiling(*d);
  (void)sqrt(*d);
  (void)ln(*d);
  (void)exp(*d);
  (void)power(*d, three);
  (void)d->to_int64();
  auto low = low_boundary(*d);
  auto high = high_boundary(*d);
  if (low && high) GW_ASSERT(*low <= *high, "decimal boundaries ordered");
}

template <class T>
void temporal_invariants(const T& v) {
  const auto self = compare(v, v);
  GW_ASSERT(self && *self == 0, "temporal value equals itself");
  GW_ASSERT(equivalent(v, v), "temporal value equivalent to itself");
  auto low = low_boundary(v);
  auto high = high_boundary(v);
  GW_ASSERT(low && high, "default boundaries exist");
  const auto order = compare(*low, *high);
  GW_ASSERT(!order || *order <= 0, "temporal boundaries ordered");
}

void temporal(std::string_view text, TemporalSyntax syntax) {
  if (auto d = parse_date(text, syntax)) {
    auto again = parse_date(d->to_string(), TemporalSyntax::kFhirPath);
    GW_ASSERT(again && *again == *d, "date text round trip");
    temporal_invariants(*d);
    (void)add(*d, Quantity{Decimal::from_int64(40), "months"});
  }
  if (auto t = parse_datetime(text, syntax)) {
    auto again = parse_datetime(t->to_string(), TemporalSyntax::kFhirPath);
    GW_ASSERT(again && *again == *t, "dateTime text round trip");
    temporal_invariants(*t);
    (void)add(*t, Quantity{Decimal::from_int64(-1000), "hours"});
    (void)subtract(*t, Quantity{Decimal::from_int64(13), "months"});
  }
  if (auto t = parse_time(text, syntax)) {
    auto again = parse_time(t->to_string(), TemporalSyntax::kFhirPath);
    GW_ASSERT(again && *again == *t, "time text round trip");
    temporal_invariants(*t);
    (void)add(*t, Quantity{Decimal::from_int64(25), "h"});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  decimal(bytes, DecimalSyntax::kFhir);
  decimal(bytes, DecimalSyntax::kFhirPath);
  temporal(bytes, TemporalSyntax::kFhir);
  temporal(bytes, TemporalSyntax::kFhirPath);
  (void)parse_instant(bytes);
  if (auto q = parse_quantity(bytes)) {
    auto again = parse_quantity(q->to_string());
    GW_ASSERT(again && again->unit == q->unit && identical(again->value, q->value), "quantity round trip");
    const auto self = equals(*q, *q);
    GW_ASSERT(!self || *self, "a comparable quantity equals itself");
    (void)multiply(*q, *q);
    (void)divide(*q, *q);
    (void)add(*q, *q);
    (void)convert(*q, "g");
  }
  if (auto u = ucum::canonicalize(bytes)) {
    (void)ucum::convert(Decimal::from_int64(1), bytes, bytes);
  }
  return 0;
}
