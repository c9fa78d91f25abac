// Conversion functions (N1 §5.5): toX() and convertsToX().
//
// Each toX() takes a single item (several are an execution error, none
// give empty) and returns empty when the item does not convert; the
// matching convertsToX() says whether toX() would return a value. FHIR
// primitives convert through their System value.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

#include <charconv>

namespace gw::fhirpath::detail {

namespace prim = gw::primitives;

namespace {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// N1 §5.5.1: the string spellings are case-insensitive ('False' converts);
// only 0 and 1 (or 0.0 and 1.0) convert from numbers.
std::optional<Item> to_boolean(const Item& v, Evaluator&, const Op&, const Scope&) {
  switch (v.kind()) {
    case ItemKind::kBoolean:
      return v;
    case ItemKind::kInteger:
      if (v.integer() == 1) return Item::boolean(true);
      if (v.integer() == 0) return Item::boolean(false);
      return std::nullopt;
    case ItemKind::kDecimal:
      if (v.decimal() == prim::Decimal::from_int64(1)) return Item::boolean(true);
      if (v.decimal().is_zero()) return Item::boolean(false);
      return std::nullopt;
    case ItemKind::kString: {
      std::string s = lower_ascii(v.string());
      if (s == "true" || s == "t" || s == "yes" || s == "y" || s == "1" || s == "1.0") return Item::boolean(true);
      if (s == "false" || s == "f" || s == "no" || s == "n" || s == "0" || s == "0.0") {
        return Item::boolean(false);
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::int64_t> parse_integer(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || (s[0] == '-' && s.size() == 1)) return std::nullopt;
  for (std::size_t i = s[0] == '-' ? 1 : 0; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A Decimal never converts to Integer ('1.0'.toInteger() is empty), even
// when integral: the spec lists only Integer, String and Boolean.
std::optional<Item> to_integer(const Item& v, Evaluator&, const Op&, const Scope&) {
  switch (v.kind()) {
    case ItemKind::kInteger:
      return v;
    case ItemKind::kBoolean:
      return Item::integer(v.boolean() ? 1 : 0);
    case ItemKind::kString:
      if (auto i = parse_integer(v.string())) return Item::integer(*i);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<Item> to_decimal(const Item& v, Evaluator&, const Op&, const Scope&) {
  switch (v.kind()) {
    case ItemKind::kDecimal:
      return v;
    case ItemKind::kInteger:
      return Item::decimal(prim::Decimal::from_int64(v.integer()));
    case ItemKind::kBoolean: {
      auto d = prim::Decimal::parse(v.boolean() ? "1.0" : "0.0", prim::DecimalSyntax::kFhirPath);
      if (!d) return std::nullopt;
      return Item::decimal(*d);
    }
    case ItemKind::kString: {
      auto d = prim::Decimal::parse(v.string(), prim::DecimalSyntax::kFhirPath);
      if (!d) return std::nullopt;
      return Item::decimal(*d);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> to_string_item(const Item& v, Evaluator&, const Op&, const Scope&) {
  switch (v.kind()) {
    case ItemKind::kString: return v;
    case ItemKind::kBoolean: return Item::string(v.boolean() ? "true" : "false");
    case ItemKind::kInteger: return Item::string(std::to_string(v.integer()));
    case ItemKind::kDecimal: return Item::string(v.decimal().to_string());
    case ItemKind::kQuantity: return Item::string(v.quantity().to_string());
    case ItemKind::kDate: return Item::string(v.date().to_string());
    case ItemKind::kDateTime: return Item::string(v.datetime().to_string());
    case ItemKind::kTime: return Item::string(v.time().to_string());
    default: return std::nullopt;
  }
}

std::optional<Item> to_quantity_plain(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kQuantity:
      return v;
    case ItemKind::kInteger:
    case ItemKind::kDecimal: {
      prim::Quantity q;
      q.value = v.kind() == ItemKind::kInteger ? prim::Decimal::from_int64(v.integer()) : v.decimal();
      return Item::quantity(std::move(q));
    }
    case ItemKind::kBoolean: {
      auto d = prim::Decimal::parse(v.boolean() ? "1.0" : "0.0", prim::DecimalSyntax::kFhirPath);
      if (!d) return std::nullopt;
      prim::Quantity q;
      q.value = *d;
      return Item::quantity(std::move(q));
    }
    case ItemKind::kString: {
      auto q = prim::parse_quantity(v.string());
      if (!q) return std::nullopt;
      return Item::quantity(std::move(*q));
    }
    default:
      return std::nullopt;
  }
}

// Converting to a unit needs the argument; unit errors give empty.
std::optional<Item> to_quantity(const Item& v, Evaluator& ev, const Op& call, const Scope& scope) {
  std::optional<Item> q = to_quantity_plain(v);
  if (!q || call.args.empty()) return q;
  auto unit = ev.string_arg(call, 0, scope);
  if (!unit || !*unit) return std::nullopt;
  std::optional<prim::Quantity> c = prim::convert(q->quantity(), **unit);
  if (!c) return std::nullopt;
  return Item::quantity(std::move(*c));
}

std::optional<Item> to_date(const Item& v, Evaluator&, const Op&, const Scope&) {
  switch (v.kind()) {
    case ItemKind::kDate: return v;
    case ItemKind::kDateTime: return Item::date(prim::date_part(v.datetime()));
    case ItemKind::kString: {
      auto d = prim::parse_date(v.string(), prim::TemporalSyntax::kFhirPath);
      if (!d) return std::nullopt;
      return Item::date(*d);
    }
    default: return std::nullopt;
  }
}

std::optional<Item> to_datetime(const Item& v, Evaluator&, const Op&, const Scope&) {
  switch (v.kind()) {
    case ItemKind::kDateTime: return v;
    case ItemKind::kDate: return Item::datetime(prim::to_datetime(v.date()));
    case ItemKind::kString: {
      auto d = prim::parse_datetime(v.string(), prim::TemporalSyntax::kFhirPath);
      if (!d) return std::nullopt;
      return Item::datetime(*d);
    }
    default: return std::nullopt;
  }
}

std::optional<Item> to_time(const Item& v, Evaluator&, const Op&, const Scope&) {
  switch (v.kind()) {
    case ItemKind::kTime: return v;
    case ItemKind::kString: {
      auto t = prim::parse_time(v.string(), prim::TemporalSyntax::kFhirPath);
      if (!t) return std::nullopt;
      return Item::time(*t);
    }
    default: return std::nullopt;
  }
}

using Converter = std::optional<Item> (*)(const Item&, Evaluator&, const Op&, const Scope&);

Result<std::optional<Item>> convert_input(Evaluator& ev, const Op& call, const Collection& input,
                                          const Scope& scope, Converter conv, bool& empty) {
  GW_TRY(const Item* x, single_item(ev, call, input, "function '" + call.name + "'"));
  empty = x == nullptr;
  if (!x) return std::optional<Item>();
  std::optional<Item> v = system_value(*x);
  if (!v) return std::optional<Item>();
  return conv(*v, ev, call, scope);
}

template <Converter C>
Result<Collection> fn_to(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  bool empty = false;
  GW_TRY(std::optional<Item> r, convert_input(ev, call, input, scope, C, empty));
  if (!r) return Collection{};
  return Collection{std::move(*r)};
}

template <Converter C>
Result<Collection> fn_converts_to(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  bool empty = false;
  GW_TRY(std::optional<Item> r, convert_input(ev, call, input, scope, C, empty));
  if (empty) return Collection{};
  return Collection{Item::boolean(r.has_value())};
}

constexpr FunctionDef kFunctions[] = {
    {"toBoolean", 0, 0, fn_to<to_boolean>, ArgMode::kValues, ResultKind::kBoolean},
    {"convertsToBoolean", 0, 0, fn_converts_to<to_boolean>, ArgMode::kValues, ResultKind::kBoolean},
    {"toInteger", 0, 0, fn_to<to_integer>, ArgMode::kValues, ResultKind::kInteger},
    {"convertsToInteger", 0, 0, fn_converts_to<to_integer>, ArgMode::kValues, ResultKind::kBoolean},
    {"toDecimal", 0, 0, fn_to<to_decimal>, ArgMode::kValues, ResultKind::kDecimal},
    {"convertsToDecimal", 0, 0, fn_converts_to<to_decimal>, ArgMode::kValues, ResultKind::kBoolean},
    {"toString", 0, 0, fn_to<to_string_item>, ArgMode::kValues, ResultKind::kString},
    {"convertsToString", 0, 0, fn_converts_to<to_string_item>, ArgMode::kValues, ResultKind::kBoolean},
    {"toQuantity", 0, 1, fn_to<to_quantity>, ArgMode::kValues, ResultKind::kQuantity},
    {"convertsToQuantity", 0, 1, fn_converts_to<to_quantity>, ArgMode::kValues, ResultKind::kBoolean},
    {"toDate", 0, 0, fn_to<to_date>, ArgMode::kValues, ResultKind::kDate},
    {"convertsToDate", 0, 0, fn_converts_to<to_date>, ArgMode::kValues, ResultKind::kBoolean},
    {"toDateTime", 0, 0, fn_to<to_datetime>, ArgMode::kValues, ResultKind::kDateTime},
    {"convertsToDateTime", 0, 0, fn_converts_to<to_datetime>, ArgMode::kValues, ResultKind::kBoolean},
    {"toTime", 0, 0, fn_to<to_time>, ArgMode::kValues, ResultKind::kTime},
    {"convertsToTime", 0, 0, fn_converts_to<to_time>, ArgMode::kValues, ResultKind::kBoolean},
};

}  // namespace

std::span<const FunctionDef> conversion_functions() { return kFunctions; }

}  // namespace gw::fhirpath::detail
