// Quantity: FHIRPath's number-with-unit. Parsing of the toQuantity() string
// form, printing, and comparison / arithmetic across units.
//
// Every operation first *resolves* each unit into one of three kinds:
//   calendar  `year(s)`/`month(s)`: comparable only with the same keyword: a
//             calendar year is not 365.25 days, nor 'a', nor even 12 months
//             until converted explicitly (FHIRPath 2.0 "Quantity equality":
//             "calendar unit conversion must be explicit");
//   UCUM      everything ucum::canonicalize() understands, including the
//             definite calendar keywords week..millisecond, which map to
//             'wk', 'd', 'h', 'min', 's', 'ms';
//   text      anything else, comparable only with the identical unit text.
// Two resolved units are comparable when they are the same kind with the same
// dimension; values are then compared exactly by cross-multiplying with the
// unit factors (no rounding at all for = and <).
#include "gateway/primitives/primitives.hpp"

#include "gateway/primitives/detail/decimal_internal.hpp"

namespace gw::primitives {

namespace {

struct CalendarName {
  std::string_view singular;
  std::string_view plural;
  CalendarUnit unit;
  std::string_view ucum;  // the UCUM counterpart ('a'/'mo' only for ~)
};

constexpr CalendarName kCalendar[] = {
    {"year", "years", CalendarUnit::kYear, "a"},
    {"month", "months", CalendarUnit::kMonth, "mo"},
    {"week", "weeks", CalendarUnit::kWeek, "wk"},
    {"day", "days", CalendarUnit::kDay, "d"},
    {"hour", "hours", CalendarUnit::kHour, "h"},
    {"minute", "minutes", CalendarUnit::kMinute, "min"},
    {"second", "seconds", CalendarUnit::kSecond, "s"},
    {"millisecond", "milliseconds", CalendarUnit::kMillisecond, "ms"},
};

const CalendarName* find_calendar(std::string_view unit) {
  for (const auto& c : kCalendar) {
    if (unit == c.singular || unit == c.plural) return &c;
  }
  return nullptr;
}

enum class Kind : std::uint8_t { kCalendar, kUcum, kText };

/// A unit resolved for comparison: value_in_common = (value + offset) *
/// numerator / denominator, in a space identified by (kind, dimension,
/// arbitrary, text).
struct Resolved {
  Kind kind = Kind::kText;
  ucum::CanonicalUnit canonical;
  std::string text;  // kText: the unit as written
};

/// `equivalence` maps year/month to 'a'/'mo' (they are equivalent, ~, though
/// not equal, =).
Resolved resolve(const std::string& unit, bool equivalence) {
  Resolved r;
  if (const CalendarName* c = find_calendar(unit)) {
    const bool indefinite = c->unit == CalendarUnit::kYear || c->unit == CalendarUnit::kMonth;
    if (indefinite && !equivalence) {
      r.kind = Kind::kCalendar;
      r.canonical.numerator = Decimal::from_int64(c->unit == CalendarUnit::kYear ? 12 : 1);
      return r;
    }
    auto canon = ucum::canonicalize(c->ucum);
    GW_ASSERT(canon.has_value(), "calendar counterpart must be known UCUM");
    r.kind = Kind::kUcum;
    r.canonical = std::move(*canon);
    return r;
  }
  if (auto canon = ucum::canonicalize(unit)) {
    r.kind = Kind::kUcum;
    r.canonical = std::move(*canon);
    return r;
  }
  r.text = unit;
  return r;
}

bool same_space(const Resolved& a, const Resolved& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kCalendar: return a.canonical.numerator == b.canonical.numerator;  // year vs month
    case Kind::kText: return a.text == b.text;
    default:
      return a.canonical.dimension == b.canonical.dimension && a.canonical.arbitrary == b.canonical.arbitrary;
  }
}

/// Sign of (va in a) - (vb in b), exactly, for units in the same space.
std::optional<int> compare_resolved(const Decimal& va, const Resolved& a, const Decimal& vb, const Resolved& b) {
  // (va + oa) * na / da  vs  (vb + ob) * nb / db; denominators are positive,
  // so compare (va + oa) * na * db with (vb + ob) * nb * da.
  auto sa = add(va, a.canonical.offset);
  auto sb = add(vb, b.canonical.offset);
  if (!sa || !sb) return std::nullopt;
  auto fa = multiply(a.canonical.numerator, b.canonical.denominator);
  auto fb = multiply(b.canonical.numerator, a.canonical.denominator);
  if (!fa || !fb) return std::nullopt;
  auto left = multiply(*sa, *fa);
  auto right = multiply(*sb, *fb);
  if (!left || !right) return std::nullopt;
  const auto c = *left <=> *right;
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/// vb (in b) expressed in a, for units in the same space.
std::optional<Decimal> convert_resolved(const Decimal& vb, const Resolved& b, const Resolved& a) {
  if (a.kind == Kind::kText) return vb;
  if (a.kind == Kind::kCalendar) {
    // Months and years: x_a = vb * nb / na.
    auto months = multiply(vb, b.canonical.numerator);
    if (!months) return std::nullopt;
    if (a.canonical.numerator == Decimal::from_int64(1)) return months;
    return divide(*months, a.canonical.numerator);
  }
  return detail::convert_canonical(vb, b.canonical, a.canonical);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// The unit as it takes part in a product: calendar keywords become their
/// UCUM counterparts (year -> 'a'), "1" stays "1".
std::optional<std::string> product_unit(const std::string& unit) {
  if (const CalendarName* c = find_calendar(unit)) return std::string(c->ucum);
  auto canon = ucum::canonicalize(unit);
  if (!canon || !canon->offset.is_zero()) return std::nullopt;  // unknown or affine
  return unit;
}

/// A unit of the form atom+exponent ("cm", "cm2", "s-1", "10*3"), split.
struct Powered {
  std::string atom;
  int exponent = 1;
};

std::optional<Powered> split_power(const std::string& unit) {
  if (unit.empty() || unit.find_first_of("./(){}") != std::string::npos) return std::nullopt;
  std::size_t cut = unit.size();
  while (cut > 0 && unit[cut - 1] >= '0' && unit[cut - 1] <= '9') --cut;
  if (cut == 0) return std::nullopt;  // a number, not a unit atom
  Powered p{unit.substr(0, cut), 1};
  if (cut < unit.size()) {
    const std::string digits = unit.substr(cut);
    if (digits.size() > 3) return std::nullopt;
    p.exponent = std::stoi(digits);
    if (unit[cut - 1] == '-' || unit[cut - 1] == '+') {
      if (unit[cut - 1] == '-') p.exponent = -p.exponent;
      p.atom.pop_back();
      if (p.atom.empty()) return std::nullopt;
    }
  }
  return p;
}

std::string wrap(const std::string& unit) {
  return unit.find_first_of("./") == std::string::npos ? unit : "(" + unit + ")";
}

/// The unit of a product (sign = 1) or quotient (sign = -1) of two units
/// that are not "1": powers of the same atom merge (cm * cm2 = cm3,
/// cm2 / cm = cm, m / m = 1), anything else is joined with '.' or '/'.
std::string combine_units(const std::string& a, const std::string& b, int sign) {
  const auto pa = split_power(a);
  const auto pb = split_power(b);
  if (pa && pb && pa->atom == pb->atom) {
    const int e = pa->exponent + sign * pb->exponent;
    if (e == 0) return "1";
    return e == 1 ? pa->atom : pa->atom + std::to_string(e);
  }
  return wrap(a) + (sign > 0 ? "." : "/") + wrap(b);
}

enum class Op : std::uint8_t { kMultiply, kDivide };

std::optional<Quantity> multiply_or_divide(const Quantity& a, const Quantity& b, Op op) {
  auto ua = product_unit(a.unit);
  auto ub = product_unit(b.unit);
  if (!ua || !ub) return std::nullopt;
  Decimal vb = b.value;
  // Same dimension: express b in a's unit so that m/m is '1' and cm*m is
  // cm2 rather than the mixed 'cm.m'.
  if (*ua != *ub && *ua != "1" && *ub != "1" && ucum::comparable(*ua, *ub)) {
    auto converted = ucum::convert(b.value, *ub, *ua);
    if (!converted) return std::nullopt;
    vb = *converted;
    ub = ua;
  }
  Quantity r;
  auto v = op == Op::kMultiply ? multiply(a.value, vb) : divide(a.value, vb);
  if (!v) return std::nullopt;
  r.value = *v;
  if (*ub == "1") {
    r.unit = *ua;
  } else if (*ua == "1") {
    r.unit = op == Op::kMultiply ? *ub : "1/" + wrap(*ub);
  } else {
    r.unit = combine_units(*ua, *ub, op == Op::kMultiply ? 1 : -1);
  }
  return r;
}

/// True when a's unit is at least as fine as b's (its factor is not larger),
/// for units in the same space.
bool finer_or_equal(const Resolved& a, const Resolved& b) {
  if (a.kind == Kind::kText) return true;
  auto x = multiply(a.canonical.numerator, b.canonical.denominator);
  auto y = multiply(b.canonical.numerator, a.canonical.denominator);
  return !x || !y || *x <= *y;
}

std::optional<Quantity> add_or_subtract(const Quantity& a, const Quantity& b, bool subtracting) {
  const Resolved ra = resolve(a.unit, false);
  const Resolved rb = resolve(b.unit, false);
  if (!same_space(ra, rb)) return std::nullopt;
  // N1 §6.5: "The unit of the result will be the most granular unit of
  // either input" (3 'm' + 3 'cm' = 303 'cm'). Ties keep a's unit.
  Decimal va = a.value;
  Decimal vb = b.value;
  std::string unit = a.unit;
  if (a.unit != b.unit) {
    if (finer_or_equal(ra, rb)) {
      auto c = convert_resolved(b.value, rb, ra);
      if (!c) return std::nullopt;
      vb = *c;
    } else {
      auto c = convert_resolved(a.value, ra, rb);
      if (!c) return std::nullopt;
      va = *c;
      unit = b.unit;
    }
  }
  auto v = subtracting ? subtract(va, vb) : add(va, vb);
  if (!v) return std::nullopt;
  return Quantity{*v, unit};
}

}  // namespace

std::optional<CalendarUnit> calendar_unit(std::string_view unit) noexcept {
  if (const CalendarName* c = find_calendar(unit)) return c->unit;
  return std::nullopt;
}

std::string Quantity::to_string() const {
  std::string out = value.to_string();
  out.push_back(' ');
  if (find_calendar(unit) != nullptr) {
    out += unit;
    return out;
  }
  out.push_back('\'');
  for (char c : unit) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

Result<Quantity> parse_quantity(std::string_view text) {
  // value: (\+|-)?\d+(\.\d+)?
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  }
  GW_TRY(const Decimal value, Decimal::parse(text.substr(0, i), DecimalSyntax::kFhirPath));
  std::size_t j = i;
  while (j < text.size() && is_space(text[j])) ++j;
  if (j == text.size()) {
    if (j != i) return fail(ErrorCode::kParse, "quantity: trailing whitespace");
    return Quantity{value, "1"};
  }
  if (text[j] == '\'') {
    std::string unit;
    ++j;
    bool closed = false;
    while (j < text.size()) {
      const char c = text[j++];
      if (c == '\\' && j < text.size()) {
        unit.push_back(text[j++]);
      } else if (c == '\'') {
        closed = true;
        break;
      } else {
        unit.push_back(c);
      }
    }
    if (!closed) return fail(ErrorCode::kParse, "quantity: unterminated unit");
    if (unit.empty()) return fail(ErrorCode::kParse, "quantity: empty unit");
    if (j != text.size()) return fail(ErrorCode::kParse, "quantity: unexpected text after the unit");
    return Quantity{value, std::move(unit)};
  }
  if (j == i) return fail(ErrorCode::kParse, "quantity: expected whitespace before the unit");
  const std::string_view word = text.substr(j);
  if (find_calendar(word) == nullptr) {
    return fail(ErrorCode::kParse, "quantity: a unit must be quoted or a calendar keyword");
  }
  return Quantity{value, std::string(word)};
}

std::optional<Quantity> convert(const Quantity& q, std::string_view target_unit) noexcept {
  const std::string target(target_unit);
  if (q.unit == target) return q;
  const Resolved from = resolve(q.unit, false);
  const Resolved to = resolve(target, false);
  // The explicit conversion also joins years and months (12 months a year).
  const bool calendar = from.kind == Kind::kCalendar && to.kind == Kind::kCalendar;
  if (!calendar && !same_space(from, to)) return std::nullopt;
  auto v = convert_resolved(q.value, from, to);
  if (!v) return std::nullopt;
  return Quantity{*v, target};
}

bool comparable(const Quantity& a, const Quantity& b) noexcept {
  return same_space(resolve(a.unit, false), resolve(b.unit, false));
}

std::optional<int> compare(const Quantity& a, const Quantity& b) noexcept {
  const Resolved ra = resolve(a.unit, false);
  const Resolved rb = resolve(b.unit, false);
  if (!same_space(ra, rb)) return std::nullopt;
  return compare_resolved(a.value, ra, b.value, rb);
}

std::optional<bool> equals(const Quantity& a, const Quantity& b) noexcept {
  const auto c = compare(a, b);
  if (!c) return std::nullopt;
  return *c == 0;
}

bool equivalent(const Quantity& a, const Quantity& b) noexcept {
  const Resolved ra = resolve(a.unit, true);
  const Resolved rb = resolve(b.unit, true);
  if (!same_space(ra, rb)) return false;
  // Decimal equivalence rounds to the less precise operand. Precision is
  // measured in each operand's own unit, so try both directions: the one
  // expressed in the coarser unit is the meaningful one, and the finer one
  // can only agree when the coarser one does (4 'g' ~ 4040 'mg' and
  // 4040 'mg' ~ 4 'g' are both true).
  const auto b_in_a = convert_resolved(b.value, rb, ra);
  if (b_in_a && equivalent(a.value, *b_in_a)) return true;
  const auto a_in_b = convert_resolved(a.value, ra, rb);
  return a_in_b && equivalent(*a_in_b, b.value);
}

std::optional<Quantity> add(const Quantity& a, const Quantity& b) noexcept { return add_or_subtract(a, b, false); }

std::optional<Quantity> subtract(const Quantity& a, const Quantity& b) noexcept {
  return add_or_subtract(a, b, true);
}

std::optional<Quantity> multiply(const Quantity& a, const Quantity& b) noexcept {
  return multiply_or_divide(a, b, Op::kMultiply);
}

std::optional<Quantity> divide(const Quantity& a, const Quantity& b) noexcept {
  return multiply_or_divide(a, b, Op::kDivide);
}

std::optional<Quantity> low_boundary(const Quantity& q, std::optional<int> precision) {
  auto v = low_boundary(q.value, precision);
  if (!v) return std::nullopt;
  return Quantity{*v, q.unit};
}

std::optional<Quantity> high_boundary(const Quantity& q, std::optional<int> precision) {
  auto v = high_boundary(q.value, precision);
  if (!v) return std::nullopt;
  return Quantity{*v, q.unit};
}

}  // namespace gw::primitives
